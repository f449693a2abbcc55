from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "refill.apikeys"
    label = "apikeys"
    verbose_name = "API keys"
