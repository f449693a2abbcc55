from django.apps import AppConfig

from refill import events


class RenewalsConfig(AppConfig):
    name = "refill.renewals"
    label = "renewals"

    def ready(self) -> None:
        events.subscribe("order.paid", "refill.renewals.gifts.on_order_paid", when="refill.renewals.gifts.gift_orders")
        events.subscribe("payment.settled", "refill.renewals.handlers.on_payment_settled")
