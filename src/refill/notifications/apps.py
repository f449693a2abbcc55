from django.apps import AppConfig

from refill import events


class NotificationsConfig(AppConfig):
    name = "refill.notifications"
    label = "notifications"

    def ready(self) -> None:
        events.subscribe(
            "order.paid", "refill.notifications.handlers.on_order_paid", when="refill.notifications.handlers.own_orders"
        )
        events.subscribe("order.refunded", "refill.notifications.handlers.on_order_refunded")
        events.subscribe("bucket.threshold_crossed", "refill.notifications.handlers.on_bucket_threshold_crossed")
