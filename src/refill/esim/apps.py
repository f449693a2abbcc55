from django.apps import AppConfig

from refill import events


class EsimConfig(AppConfig):
    name = "refill.esim"
    label = "esim"
    verbose_name = "eSIM"

    def ready(self) -> None:
        events.subscribe("order.paid", "refill.esim.handlers.on_order_paid", when="refill.esim.handlers.new_esim_lines")
