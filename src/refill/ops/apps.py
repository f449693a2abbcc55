from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "refill.ops"
    label = "ops"
