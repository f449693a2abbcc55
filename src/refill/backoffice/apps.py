from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "refill.backoffice"
    label = "backoffice"
