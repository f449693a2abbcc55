from django.apps import AppConfig


class FleetsConfig(AppConfig):
    name = "refill.fleets"
    label = "fleets"
