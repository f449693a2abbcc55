from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.integrations.sms.base import send_sms

from .models import Customer, User

# Every login the demo data creates (refill.catalog.demo.DEMO_PASSWORDS), refused when demo is off.
DEMO_EMAILS = frozenset(
    {
        "demo@example.com",
        "admin@example.com",
        "agent@example.com",
        "li.wei@example.com",
        "support@example.com",
        "finance@example.com",
        "catalog@example.com",
    }
)


class AccountAdapter(DefaultAccountAdapter):
    """Phone numbers live on our User; every new login gets a Customer in its chosen language."""

    def get_login_redirect_url(self, request):
        """Staff land on the back office, shop agents on the counter, a business's people on its
        fleet; customers on their lines (or wherever ``next`` said, as allauth decides before
        asking this)."""
        from django.urls import reverse

        from refill.fleets.services import fleet_member

        user = request.user
        if user.is_staff:
            return reverse("backoffice:index")
        if user.role == User.Role.AGENT:
            return reverse("agentdesk:desk")
        if fleet_member(user) is not None:
            return reverse("fleets:dashboard")
        return super().get_login_redirect_url(request)

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        """allauth's messages in the signed-in customer's language: the login request still runs in
        the browser's language, and "Successfully signed in as …" would greet a customer who chose
        Chinese in English on the first page after login."""
        user = getattr(request, "user", None)
        customer = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
        language = customer.preferred_language if customer is not None else translation.get_language()
        with translation.override(language):
            super().add_message(request, level, message_template, message_context, extra_tags, message)

    def get_login_stages(self) -> list[str]:
        """allauth's stages, with email verification skipped for phone-only accounts."""
        return [
            "refill.customers.stages.EmailVerificationStage"
            if path == "allauth.account.stages.EmailVerificationStage"
            else path
            for path in super().get_login_stages()
        ]

    def clean_phone(self, phone: str) -> str:
        region = getattr(settings, "REFILL_DEFAULT_REGION", "US")
        try:
            return normalize_msisdn(phone, region)
        except InvalidIdentifier:
            from django import forms

            raise forms.ValidationError(_("Enter a valid mobile number, e.g. +1 202 555 0143.")) from None

    def phone_form_field(self, **kwargs):
        from .forms import MobileNumberField

        return MobileNumberField(**kwargs)

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user: User):
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user: User, phone: str) -> None:
        User.objects.filter(pk=user.pk, phone=phone).update(phone_verified=True)
        user.phone_verified = True

    def get_user_by_phone(self, phone: str):
        return User.objects.filter(phone=phone).order_by("pk").first()

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        send_sms(to=phone, body=_("Your Refill verification code is %(code)s.") % {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        send_sms(to=phone, body=_("Someone asked for a Refill code for this number, but it has no account."))

    def send_account_already_exists_sms(self, phone: str) -> None:
        """Signup with a number that has an account: its owner is told, and nobody else learns it."""
        send_sms(
            to=phone,
            body=_(
                "Someone tried to open a Refill account with this number, which already has one. "
                "Log in or reset your password instead."
            ),
        )

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            customer = Customer.objects.create(
                preferred_language=translation.get_language() or "en",
                time_zone=settings.REFILL_DEFAULT_TIME_ZONE,
            )
            user.customer = customer
            user.role = User.Role.CUSTOMER
            # allauth attaches the phone after the first save; the row must have email or phone.
            phone = getattr(form, "cleaned_data", {}).get("phone")
            if phone and not user.phone:
                user.phone = phone
            return super().save_user(request, user, form, commit=commit)

    def pre_authenticate(self, request, **credentials):
        login = (credentials.get("email") or credentials.get("login") or "").lower()
        if not settings.REFILL_DEMO and login in DEMO_EMAILS:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("demo accounts are disabled")
        return super().pre_authenticate(request, **credentials)


class MfaAdapter(DefaultMFAAdapter):
    def build_totp_svg(self, url: str) -> str:
        """The TOTP setup QR code as inline SVG, drawn with segno (already used for eSIM codes)."""
        import io

        import segno

        buffer = io.BytesIO()
        segno.make(url, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, svgns=True)
        return buffer.getvalue().decode()
