from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "refill.ledger"
    label = "ledger"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .guard import register_sqlite_guard

        connection_created.connect(register_sqlite_guard, dispatch_uid="refill-ledger-guard")
