from __future__ import annotations

import io
import time
from urllib.parse import quote

import segno
from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.formatting import public_url
from refill.integrations.sms.base import send_sms

from .forms import MobileNumberField
from .middleware import needs_second_factor
from .models import Customer, User

# Every login the demo data creates (refill.demo.seed.DEMO_PASSWORDS), refused when demo is off.
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
        from refill.fleets.access import fleet_member

        user = request.user
        if user.is_staff:
            return reverse("backoffice:index")
        if user.role == User.Role.AGENT:
            return reverse("agentdesk:desk")
        if fleet_member(user) is not None:
            return reverse("fleets:dashboard")
        return super().get_login_redirect_url(request)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again ("Confirm it is you") before a change to how one
        logs in. Staff setting up their required first authenticator right after logging in with
        that very password are not asked again: the login is that proof, for
        ACCOUNT_REAUTHENTICATION_TIMEOUT. Every other change (turning the second factor off, new
        recovery codes, email, password), every later one and customers' still ask."""
        required = super().is_reauthentication_required(app=app, **kwargs)
        if required and app == "allauth.mfa" and fresh_login_sets_up_totp(context.request):
            return False
        return required

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
            raise forms.ValidationError(_("Enter a valid mobile number, e.g. +1 202 555 0143.")) from None

    def phone_form_field(self, **kwargs):
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
            raise PermissionDenied("demo accounts are disabled")
        return super().pre_authenticate(request, **credentials)

    # Account emails (signup, verification, password reset, login code, security notices): Refill's
    # own templates (templates/account/email/, templates/mfa/email/), signed by the operator, in the
    # customer's language and time zone, and every link built from REFILL_PUBLIC_URL, never from the
    # host the request happened to arrive on.

    def format_email_subject(self, subject: str) -> str:
        return _("%(operator)s: %(subject)s") % {"operator": settings.REFILL_OPERATOR["name"], "subject": subject}

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return public_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return public_url(path.replace("UID-KEY", quote(key)))

    def send_notification_mail(self, template_prefix: str, user, context=None, email=None) -> None:
        # With the user, so the notice is written in their language even when it goes to an
        # address that is no longer theirs (the old one, after a change).
        super().send_notification_mail(template_prefix, user, {"user": user, **(context or {})}, email)

    def send_account_already_exists_mail(self, email: str) -> None:
        # Its link is the reset page's (send_mail's default), not one built from the request.
        self.send_mail("account/email/account_already_exists", email, {})

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        customer = _customer_for(email, context.get("user"))
        language = customer.preferred_language if customer else translation.get_language() or settings.LANGUAGE_CODE
        zone = customer.time_zone if customer else settings.REFILL_DEFAULT_TIME_ZONE
        ctx = {
            "email": email,
            "operator": settings.REFILL_OPERATOR,
            "site_url": settings.REFILL_PUBLIC_URL,
            **context,
            # allauth builds these two from the request's host; Refill's come from the one setting.
            "signup_url": public_url(reverse("account_signup")),
            "password_reset_url": context.get("password_reset_url") or public_url(reverse("account_reset_password")),
        }
        with translation.override(language), timezone.override(zone):
            message = self.render_mail(template_prefix, email, ctx)
        message.extra_headers["Content-Language"] = language
        message.send()


class MfaAdapter(DefaultMFAAdapter):
    def build_totp_svg(self, url: str) -> str:
        """The TOTP setup QR code as inline SVG, drawn with segno (already used for eSIM codes)."""
        buffer = io.BytesIO()
        segno.make(url, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, svgns=True)
        return buffer.getvalue().decode()


# The pages of a first TOTP setup: the QR code and the recovery codes it makes.
TOTP_SETUP_PAGES = ("mfa_activate_totp", "mfa_view_recovery_codes", "mfa_download_recovery_codes")


def fresh_login_sets_up_totp(request) -> bool:
    """Whether ``request`` is a step of the first TOTP setup that staff and shop agents are sent to
    (StaffTwoFactorMiddleware), in a session whose login was by password less than
    ACCOUNT_REAUTHENTICATION_TIMEOUT ago (a login by emailed code does not prove the password
    allauth would ask for). Customers, for whom the second factor is a choice, still confirm: a
    stolen fresh session must not be able to lock them out with an authenticator of its own."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    if user is None or not needs_second_factor(user) or match is None or match.url_name not in TOTP_SETUP_PAGES:
        return False
    records = get_authentication_records(request, user)
    logins = [r for r in records if r.get("method") == "password" and not r.get("reauthenticated")]
    if not logins or time.time() - logins[0]["at"] >= account_settings.REAUTHENTICATION_TIMEOUT:
        return False
    # No authenticator yet, or the one set up in this very session (its recovery codes are next).
    set_up_here = any(r.get("method") == "mfa" and r.get("set_up") for r in records)
    return set_up_here or not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _customer_for(email: str, user) -> Customer | None:
    """The customer an account email goes to (so it is written in their language), if any."""
    if user is None or getattr(user, "pk", None) is None:
        user = User.objects.filter(email__iexact=email).select_related("customer").first()
    return getattr(user, "customer", None) if user is not None else None
