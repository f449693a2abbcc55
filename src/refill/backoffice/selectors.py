"""Reads for the finance pages: trial balance and customer statements, straight from the journal."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from refill.ledger.models import Account, JournalLine
from refill.orders.models import Order


@dataclass
class TrialRow:
    account: Account
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        net = self.debits - self.credits
        return -net if self.account.credit_normal else net


def trial_balance() -> dict[str, dict]:
    """Per currency: every account's debit and credit totals; debits equal credits when balanced."""
    totals = (
        JournalLine.objects.values("account_id")
        .annotate(debits=Sum("amount", filter=Q(amount__gt=0)), credits=Sum("amount", filter=Q(amount__lt=0)))
        .order_by()
    )
    accounts = {a.pk: a for a in Account.objects.all()}
    result: dict[str, dict] = defaultdict(lambda: {"rows": [], "debits": Decimal(0), "credits": Decimal(0)})
    for row in totals:
        account = accounts[row["account_id"]]
        debits = Decimal(row["debits"] or 0)
        credits = -Decimal(row["credits"] or 0)
        bucket = result[account.currency]
        bucket["rows"].append(TrialRow(account, debits, credits))
        bucket["debits"] += debits
        bucket["credits"] += credits
    for bucket in result.values():
        bucket["rows"].sort(key=lambda r: r.account.code)
    return dict(sorted(result.items()))


def customer_statement(customer) -> dict:
    """The customer's wallet movements per currency (with running balance) and their orders."""
    movements: dict[str, list[dict]] = defaultdict(list)
    running: dict[str, Decimal] = defaultdict(Decimal)
    lines = (
        JournalLine.objects.filter(account__customer=customer, account__purpose=Account.Purpose.WALLET)
        .select_related("entry", "account")
        .order_by("entry__created_at", "pk")
    )
    for line in lines:
        change = -Decimal(line.amount)
        running[line.currency] += change
        movements[line.currency].append(
            {
                "at": line.entry.created_at,
                "cause": line.entry.get_cause_display(),
                "reference": f"{line.entry.cause}:{line.entry.cause_id}",
                "entry_id": line.entry.pk,
                "correctable": line.entry.cause == "adjustment" and line.entry.corrects_id is None,
                "memo": line.entry.memo,
                "change": change,
                "balance": running[line.currency],
            }
        )
    orders = Order.objects.filter(customer=customer).select_related("line", "receipt").prefetch_related("payments")
    return {"movements": dict(movements), "balances": dict(running), "orders": list(orders.order_by("-created_at"))}
