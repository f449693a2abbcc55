from django.apps import AppConfig

from refill import events


class FleetsConfig(AppConfig):
    name = "refill.fleets"
    label = "fleets"

    def ready(self) -> None:
        events.subscribe(
            "order.paid", "refill.fleets.handlers.on_order_paid", when="refill.fleets.handlers.bulk_job_payments"
        )
