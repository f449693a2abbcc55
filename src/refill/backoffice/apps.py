from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    name = "refill.backoffice"
    label = "backoffice"

    def ready(self) -> None:
        from .roles import roles_sync

        post_migrate.connect(roles_sync, sender=self, dispatch_uid="refill.backoffice.roles_sync")
