from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "refill.customers"
    label = "customers"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        authenticator_added.connect(_totp_set_up, dispatch_uid="refill.customers.totp_set_up")


def _totp_set_up(sender, request, user, authenticator, **kwargs) -> None:
    """Setting TOTP up takes a valid code: that is the session's second factor (staff are sent to
    set it up before the back office, and go on from there without a second code)."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator

    if authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", type="totp")
