from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "refill.support"
    label = "support"
