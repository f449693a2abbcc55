from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _


class MobileNumberField(forms.CharField):
    """A mobile number in international or national format (read in REFILL_DEFAULT_REGION),
    cleaned to E.164 by the account adapter."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("help_text", _("Include the country code, e.g. +1 or +86."))
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value):
        from allauth.account.adapter import get_adapter

        value = super().clean(value)
        return get_adapter().clean_phone(value) if value else value


class SignupForm(AllauthSignupForm):
    """Sign up with an email address, a mobile number, or both (at least one)."""

    def validate_unique_email(self, value) -> str:
        """A taken address is not an error to show: the signup goes on as if new, no account is
        made, and the address's owner is emailed instead (allauth's "mandatory verification"
        behaviour, which ``refill.customers.stages`` applies)."""
        from refill.customers.models import User

        if User.objects.filter(email__iexact=value).exists():
            self.account_already_exists = True
            return value
        return super().validate_unique_email(value)

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("email")
            and not cleaned.get("phone")
            and not self.errors.get("email")
            and not self.errors.get("phone")
        ):
            raise forms.ValidationError(_("Enter an email address or a mobile number."))
        return cleaned
