from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "refill.orders"
    label = "orders"
