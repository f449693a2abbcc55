from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "refill.payments"
    label = "payments"
