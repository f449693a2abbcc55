from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "refill.api"
    label = "api"
    verbose_name = "API"
