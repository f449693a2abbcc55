from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "refill.ops"
    label = "ops"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers the array form of __in on PostgreSQL)
