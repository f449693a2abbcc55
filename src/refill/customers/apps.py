from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "refill.customers"
    label = "customers"

    def ready(self) -> None:
        from allauth.account.signals import password_reset
        from allauth.mfa.signals import authenticator_added

        authenticator_added.connect(_totp_set_up, dispatch_uid="refill.customers.totp_set_up")
        password_reset.connect(_reset_proves_email, dispatch_uid="refill.customers.reset_proves_email")


def _totp_set_up(sender, request, user, authenticator, **kwargs) -> None:
    """Setting TOTP up takes a valid code: that is the session's second factor (staff are sent to
    set it up before the back office, and go on from there without a second code)."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator

    if authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", type="totp", set_up=True)


def _reset_proves_email(sender, request, user, **kwargs) -> None:
    """A password set through the emailed reset link proves the address, as a verification link
    would (a business's new people set their first password this way)."""
    from allauth.account.models import EmailAddress

    if user.email:
        EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
