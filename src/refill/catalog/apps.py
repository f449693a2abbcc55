from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "refill.catalog"
    label = "catalog"
