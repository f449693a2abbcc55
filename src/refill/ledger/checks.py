"""The journal's own invariants (domain.md invariants 1 and 2): every entry balances in one currency
with at least two lines, and accounts that must not go negative are not. They read the ledger
alone; the checks that compare the journal with orders, payments, vouchers and promotions are in
``refill.invariants.checks`` (the ledger knows its causes only as references)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Sum

from refill.domain.money import quantize

from .models import Account, JournalEntry, JournalLine
from .services import account_balance


def check_entries() -> list[str]:
    problems = []
    unbalanced = JournalLine.objects.values("entry_id", "currency").annotate(total=Sum("amount")).exclude(total=0)
    for row in unbalanced:
        if quantize(Decimal(row["total"]), row["currency"]) != 0:
            problems.append(f"entry {row['entry_id']} does not balance in {row['currency']}: {row['total']}")
    for entry in JournalEntry.objects.annotate(n=Count("lines")).filter(n__lt=2):
        problems.append(f"entry {entry.pk} has {entry.n} line(s)")
    mismatched = JournalLine.objects.exclude(currency=F("account__currency"))
    for line in mismatched:
        problems.append(f"journal line {line.pk} is in {line.currency} but its account is not")
    return problems


def check_non_negative() -> list[str]:
    problems = []
    for account in Account.objects.filter(must_not_go_negative=True):
        balance = account_balance(account)
        if balance < 0:
            problems.append(f"account {account.code} is negative: {balance}")
    return problems
