from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "refill.payments"
    label = "payments"

    def ready(self) -> None:
        # The gateway registry forgets the adapters it built when tests override their settings.
        from . import gateways  # noqa: F401
