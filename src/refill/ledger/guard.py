"""SQLite side of the append-only guard.

The ledger's delete-refusing triggers on SQLite call ``refill_ledger_guard()``, registered on every
connection here. It answers 1 (refuse) unless settings.REFILL_LEDGER_GUARD is off, which only the
test settings do so that the test runner can empty tables between tests (PostgreSQL empties them
with TRUNCATE, which row triggers do not see). Any other SQLite client lacks the function, so a
delete there fails too.
"""

from django.conf import settings


def _guard() -> int:
    return 1 if getattr(settings, "REFILL_LEDGER_GUARD", True) else 0


def register_sqlite_guard(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("refill_ledger_guard", 0, _guard, deterministic=False)
