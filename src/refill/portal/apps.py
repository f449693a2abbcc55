from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "refill.portal"
    label = "portal"
