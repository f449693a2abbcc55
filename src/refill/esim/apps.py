from django.apps import AppConfig


class EsimConfig(AppConfig):
    name = "refill.esim"
    label = "esim"
    verbose_name = "eSIM"
