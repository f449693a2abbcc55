import secrets

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from refill.customers.models import User


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
        value = super().clean(value)
        return get_adapter().clean_phone(value) if value else value


class SignupForm(AllauthSignupForm):
    """Sign up with an email address, a mobile number, or both (at least one)."""

    def validate_unique_email(self, value) -> str:
        """A taken address is not an error to show: the signup goes on as if new, no account is
        made, and the address's owner is emailed instead (allauth's "mandatory verification"
        behaviour, which ``refill.customers.stages`` applies)."""
        if User.objects.filter(email__iexact=value).exists():
            self.account_already_exists = True
            return value
        return super().validate_unique_email(value)

    def try_save(self, request):
        """A taken address or number makes no account, but it must not answer sooner than a new one
        does: hashing the password (argon2, most of the time a signup takes) and writing the account
        would otherwise be skipped, and the answer's speed would tell who is registered. So the
        same signup is rehearsed and undone first (see _rehearse_signup); what follows, the
        "account already exists" message instead of the verification one, costs about the same."""
        if self.account_already_exists:
            self._rehearse_signup(request)
        return super().try_save(request)

    def _rehearse_signup(self, request) -> None:
        """Make the account a new signup would make (the same adapter, hasher and rows) with
        stand-ins for the taken address and number, then roll it back: nothing is kept, nothing is
        sent (no signal fires before complete_signup; on-commit work of a rolled-back block is
        dropped), and the time spent is the time a new signup spends."""
        real, already = self.cleaned_data, self.account_already_exists
        token = secrets.token_hex(6)
        self.cleaned_data = {
            **real,
            "email": f"signup-rehearsal-{token}@rehearsal.invalid" if real.get("email") else real.get("email"),
            "phone": f"+999{int(token, 16) % 10**11:011d}" if real.get("phone") else real.get("phone"),
        }
        self.account_already_exists = False
        try:
            with transaction.atomic():
                self.save(request)
                raise _Rehearsed
        except (_Rehearsed, IntegrityError):  # a stand-in already taken (never, in practice) is fine too
            pass
        finally:
            self.cleaned_data, self.account_already_exists = real, already

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


class _Rehearsed(Exception):
    """Rolls back a rehearsed signup (SignupForm._rehearse_signup)."""
