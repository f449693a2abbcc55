from django.apps import AppConfig

from refill import events


class WebhooksConfig(AppConfig):
    """The partner webhook outbox: below the API and the sweeps, a handler of the domain events it
    forwards (docs/events.md); nothing outside it writes its events."""

    name = "refill.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        for kind in ("order.paid", "renewal.succeeded", "renewal.failed", "esim.installed", "voucher.redeemed",
                     "line.expiring", "line.status_changed"):  # fmt: skip
            events.subscribe(kind, "refill.webhooks.handlers.forward", when="refill.webhooks.handlers.subscribed")
