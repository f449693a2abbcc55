from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(AllauthSignupForm):
    """Sign up with an email address, a mobile number, or both (at least one)."""

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and not self.errors.get("email") and not self.errors.get("phone"):
            raise forms.ValidationError(_("Enter an email address or a mobile number."))
        return cleaned
