from django.apps import AppConfig


class InvariantsConfig(AppConfig):
    """The whole database's invariants and ``manage.py ledger_check``. It has no tables: it reads
    the journal next to the orders, payments, vouchers and promotions that caused its entries, so
    it sits above those apps (the ledger knows its causes only as references)."""

    name = "refill.invariants"
    label = "invariants"
