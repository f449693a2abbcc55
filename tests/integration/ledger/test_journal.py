import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import override_settings

from refill.ledger.models import Account, JournalEntry, JournalLine
from refill.ledger.services import (
    InsufficientFunds,
    UnbalancedEntry,
    account_balance,
    account_for,
    entry_post,
    wallet_account,
    wallet_balance,
)
from tests.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts():
    customer, _ = make_customer()
    return {
        "customer": customer,
        "wallet": wallet_account(customer, "USD"),
        "clearing": account_for(Account.Purpose.CLEARING, "USD", reference="sandbox"),
        "revenue": account_for(Account.Purpose.REVENUE, "USD", reference="base"),
        "cny_revenue": account_for(Account.Purpose.REVENUE, "CNY", reference="base"),
    }


def topup(accounts, amount, key):
    return entry_post(
        key=key,
        cause=JournalEntry.Cause.TOPUP,
        cause_id=key,
        postings=[(accounts["clearing"], Decimal(amount)), (accounts["wallet"], -Decimal(amount))],
    )


def test_posting_and_balances(accounts):
    topup(accounts, "10.00", "t1")
    entry_post(
        key="spend1",
        cause="order",
        cause_id=1,
        postings=[(accounts["wallet"], Decimal("7.00")), (accounts["revenue"], Decimal("-7.00"))],
    )
    assert wallet_balance(accounts["customer"], "USD") == Decimal("3.00")
    assert account_balance(accounts["revenue"]) == Decimal("7.00")
    assert account_balance(accounts["clearing"]) == Decimal("10.00")


def test_same_key_posts_once(accounts):
    first = topup(accounts, "5.00", "same")
    second = topup(accounts, "5.00", "same")
    assert first.pk == second.pk and JournalEntry.objects.count() == 1


def test_service_refuses_unbalanced_and_mixed_currency_entries(accounts):
    with pytest.raises(UnbalancedEntry):
        entry_post(
            key="u",
            cause="adjustment",
            cause_id=1,
            postings=[(accounts["clearing"], Decimal("1.00")), (accounts["revenue"], Decimal("-0.99"))],
        )
    with pytest.raises(UnbalancedEntry):
        entry_post(
            key="m",
            cause="adjustment",
            cause_id=1,
            postings=[(accounts["clearing"], Decimal("1.00")), (accounts["cny_revenue"], Decimal("-1.00"))],
        )
    with pytest.raises(UnbalancedEntry):
        entry_post(
            key="s",
            cause="adjustment",
            cause_id=1,
            postings=[(accounts["clearing"], Decimal("1.001")), (accounts["revenue"], Decimal("-1.001"))],
        )
    assert JournalEntry.objects.count() == 0


def test_wallet_cannot_go_negative(accounts):
    topup(accounts, "5.00", "t")
    with pytest.raises(InsufficientFunds):
        entry_post(
            key="over",
            cause="order",
            cause_id=1,
            postings=[(accounts["wallet"], Decimal("5.01")), (accounts["revenue"], Decimal("-5.01"))],
        )
    assert wallet_balance(accounts["customer"], "USD") == Decimal("5.00")


def _raw_entry(accounts, amounts, key=None):
    entry_id = uuid.uuid4()
    for amount in amounts:
        JournalLine.objects.create(
            entry_id=entry_id, account=accounts["clearing"], amount=Decimal(amount), currency="USD"
        )
    JournalEntry.objects.create(
        id=entry_id, idempotency_key=key or str(entry_id), cause="adjustment", cause_id="x", actor_label="test"
    )
    return entry_id


def test_database_refuses_an_unbalanced_entry(accounts):
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        _raw_entry(accounts, ["1.00", "-0.50"])
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        _raw_entry(accounts, ["1.00"])
    assert JournalEntry.objects.count() == 0


def test_database_refuses_a_duplicate_key_and_late_lines(accounts):
    with transaction.atomic():
        entry_id = _raw_entry(accounts, ["1.00", "-1.00"], key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_entry(accounts, ["2.00", "-2.00"], key="k")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        JournalLine.objects.create(entry_id=entry_id, account=accounts["clearing"], amount=Decimal("1"), currency="USD")
    assert JournalLine.objects.count() == 2


@override_settings(REFILL_LEDGER_GUARD=True)
def test_database_refuses_updates_and_deletes(accounts):
    entry = topup(accounts, "3.00", "t")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        JournalLine.objects.filter(entry=entry).update(amount=Decimal("4.00"))
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(memo="edited")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_journalline")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_journalentry")
    assert JournalLine.objects.filter(entry=entry).count() == 2


def test_a_correction_is_a_new_entry_pointing_at_the_old_one(accounts):
    from refill.ledger.services import LedgerError, entry_correct, wallet_adjust

    original = wallet_adjust(
        customer=accounts["customer"], currency="USD", amount=Decimal("4.00"), reason="typo", key="adj-1"
    )
    correction = entry_correct(entry=original, reason="wrong customer")
    assert correction.corrects_id == original.pk and wallet_balance(accounts["customer"], "USD") == 0
    assert entry_correct(entry=original, reason="again").pk == correction.pk  # once per entry
    assert JournalLine.objects.filter(entry=original).count() == 2  # the original is untouched
    with pytest.raises(LedgerError):
        entry_correct(entry=topup(accounts, "1.00", "t-c"), reason="no")
