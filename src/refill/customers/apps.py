from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "refill.customers"
    label = "customers"
