from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "refill.renewals"
    label = "renewals"
