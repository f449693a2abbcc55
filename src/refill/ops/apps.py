from django.apps import AppConfig

from .request_context import log_records_carry_the_request_id


class OpsConfig(AppConfig):
    name = "refill.ops"
    label = "ops"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers the array form of __in on PostgreSQL)

        log_records_carry_the_request_id()
