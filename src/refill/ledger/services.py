"""Posting to the journal and reading balances. The only code that writes ledger rows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum

from refill.audit.services import audit_record
from refill.domain.money import quantize
from refill.ops.bulk import bulk_insert, unsaved
from refill.ops.request_context import current_request_id

from .models import Account, JournalEntry, JournalLine

KINDS = {
    Account.Purpose.WALLET: Account.Kind.LIABILITY,
    Account.Purpose.WALLET_HOLD: Account.Kind.LIABILITY,
    Account.Purpose.REVENUE: Account.Kind.REVENUE,
    Account.Purpose.TAX: Account.Kind.LIABILITY,
    Account.Purpose.CLEARING: Account.Kind.ASSET,
    Account.Purpose.VOUCHER_FLOAT: Account.Kind.LIABILITY,
    Account.Purpose.VOUCHER_RECEIVABLE: Account.Kind.ASSET,
    Account.Purpose.VOUCHER_BREAKAGE: Account.Kind.REVENUE,
    Account.Purpose.SHOP_CASH: Account.Kind.ASSET,
    Account.Purpose.REFUNDS: Account.Kind.EXPENSE,
    Account.Purpose.PROMOTIONS: Account.Kind.EXPENSE,
    Account.Purpose.ADJUSTMENTS: Account.Kind.EXPENSE,
}
# Per-customer accounts are locked when spent. The voucher float is shared, so it is never locked:
# each PIN's own state change guards it, and ledger_check proves float = value of usable PINs.
NON_NEGATIVE = {Account.Purpose.WALLET, Account.Purpose.WALLET_HOLD}


class LedgerError(Exception):
    code = "ledger_error"


class UnbalancedEntry(LedgerError):
    code = "unbalanced_entry"


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"

    def __init__(self, account: Account, balance: Decimal) -> None:
        super().__init__(f"{account.code} would go below zero (balance {balance})")
        self.account = account
        self.balance = balance


def account_for(purpose: str, currency: str, *, customer=None, reference: str = "") -> Account:
    """The account for a purpose (created on first use). House accounts are shared by reference
    only: nothing ever locks or updates them, so they are no hot row."""
    owner = f"customer:{customer.pk}" if customer is not None else "house"
    code = ":".join(filter(None, [purpose, currency, owner, reference]))
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                code=code,
                kind=KINDS[purpose],
                purpose=purpose,
                currency=currency,
                customer=customer,
                reference=reference,
                must_not_go_negative=purpose in NON_NEGATIVE,
            )
    except IntegrityError:
        return Account.objects.get(code=code)


def wallet_account(customer, currency: str) -> Account:
    return account_for(Account.Purpose.WALLET, currency, customer=customer)


def account_balance(account: Account) -> Decimal:
    """Balance on the account's normal side (what a wallet holds, what revenue earned)."""
    return account_balances([account])[account]


def wallet_balance(customer, currency: str) -> Decimal:
    account = Account.objects.filter(
        purpose=Account.Purpose.WALLET, currency=currency, customer=customer, reference=""
    ).first()
    return account_balance(account) if account else quantize(Decimal(0), currency)


def lock_accounts(accounts: Iterable[Account]) -> list[Account]:
    """Lock accounts that must not go negative, in primary-key order (the one lock order used
    everywhere), so racing spenders of one wallet serialise and nobody else waits."""
    ids = sorted({account.pk for account in accounts})
    return list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


@dataclass(frozen=True)
class EntrySpec:
    """One balanced entry to post: its idempotency key, why, and its (account, amount) lines."""

    key: str
    cause: str
    cause_id: Any
    postings: list[tuple[Account, Decimal]]
    actor: Any = None
    memo: str = ""
    corrects: JournalEntry | None = None


def _entry_rows(postings: list[tuple[Account, Decimal]]) -> list[tuple[Account, Decimal]]:
    if len(postings) < 2:
        raise UnbalancedEntry("an entry needs at least two lines")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    rows = []
    for account, amount in postings:
        amount = Decimal(amount)
        if amount == 0:
            continue
        if quantize(amount, account.currency) != amount:
            raise UnbalancedEntry(f"{amount} is not in whole minor units of {account.currency}")
        totals[account.currency] += amount
        rows.append((account, amount))
    if len(rows) < 2 or any(total != 0 for total in totals.values()):
        raise UnbalancedEntry(f"lines do not sum to zero per currency: {dict(totals)}")
    return rows


def entries_post(specs: list[EntrySpec]) -> list[JournalEntry]:
    """Post balanced entries, each once per key, in a few statements whatever their number. Must
    run inside the caller's transaction, so the entries commit (or not) together with the business
    change they record. Accounts that must not go negative and are spent here are locked (in
    primary-key order) and checked after the posting; one going below zero raises
    InsufficientFunds and nothing is posted."""
    existing = {e.idempotency_key: e for e in JournalEntry.objects.filter(idempotency_key__in=[s.key for s in specs])}
    new: dict[str, tuple[EntrySpec, list[tuple[Account, Decimal]]]] = {}
    for spec in specs:
        if spec.key not in existing and spec.key not in new:
            new[spec.key] = (spec, _entry_rows(spec.postings))
    if not new:
        return [existing[spec.key] for spec in specs]
    guarded = {
        account.pk: account
        for _, rows in new.values()
        for account, amount in rows
        if account.must_not_go_negative and _decreases(account, amount)
    }
    request_id = current_request_id()
    entries, lines = [], []
    for spec, rows in new.values():
        entry = unsaved(
            JournalEntry,
            id=uuid.uuid4(),
            idempotency_key=spec.key,
            cause=spec.cause,
            cause_id=str(spec.cause_id),
            memo=spec.memo[:200],
            actor=spec.actor
            if getattr(spec.actor, "is_staff", None) is not None and getattr(spec.actor, "pk", None)
            else None,
            actor_label=(str(spec.actor) if spec.actor is not None else "system")[:100],
            request_id=request_id,
            corrects=spec.corrects,
        )
        entries.append(entry)
        lines += [
            unsaved(JournalLine, entry_id=entry.id, account=account, amount=amount, currency=account.currency)
            for account, amount in rows
        ]
    with transaction.atomic():
        locked = lock_accounts(guarded.values()) if guarded else []
        bulk_insert(lines)
        bulk_insert(entries)
        if locked:
            for account, balance in account_balances(locked).items():
                if balance < 0:
                    raise InsufficientFunds(account, balance)
    posted = {entry.idempotency_key: entry for entry in entries}
    return [existing.get(spec.key) or posted[spec.key] for spec in specs]


def account_balances(accounts: Iterable[Account]) -> dict[Account, Decimal]:
    """Balances of several accounts (on each one's normal side) in one query."""
    accounts = list(accounts)
    sums = dict(
        JournalLine.objects.filter(account__in=accounts)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    result = {}
    for account in accounts:
        total = quantize(Decimal(sums.get(account.pk) or 0), account.currency)
        result[account] = -total if account.credit_normal else total
    return result


def entry_post(
    *,
    key: str,
    cause: str,
    cause_id,
    postings: list[tuple[Account, Decimal]],
    actor=None,
    memo: str = "",
    corrects: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, once per ``key`` (``entries_post`` with one entry)."""
    spec = EntrySpec(
        key=key, cause=cause, cause_id=cause_id, postings=postings, actor=actor, memo=memo, corrects=corrects
    )
    return entries_post([spec])[0]


def _decreases(account: Account, amount: Decimal) -> bool:
    # A debit lowers a credit-normal account (wallet, float); a credit lowers a debit-normal one.
    return amount > 0 if account.credit_normal else amount < 0


def wallet_adjust(*, customer, currency: str, amount: Decimal, reason: str, key: str, actor=None) -> JournalEntry:
    """A staff adjustment of a customer's wallet: a goodwill credit (positive) or a correction
    (negative, never below zero). Posted against the adjustments account, with the reason."""
    amount = Decimal(amount)
    if not reason.strip() or amount == 0 or quantize(amount, currency) != amount:
        raise UnbalancedEntry("an adjustment needs a non-zero amount in whole minor units and a reason")
    existing = JournalEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing  # a replayed form adjusts once
    wallet = wallet_account(customer, currency)
    adjustments = account_for(Account.Purpose.ADJUSTMENTS, currency)
    with transaction.atomic():
        entry = entry_post(
            key=key,
            cause=JournalEntry.Cause.ADJUSTMENT,
            cause_id=customer.pk,
            postings=[(adjustments, amount), (wallet, -amount)],
            actor=actor,
            memo=reason[:200],
        )
        audit_record(
            actor=actor,
            action="wallet.adjust",
            obj=customer,
            reason=reason[:200],
            data={"amount": str(amount), "currency": currency, "entry": str(entry.pk)},
        )
    return entry


def entry_correct(*, entry: JournalEntry, reason: str, actor=None) -> JournalEntry:
    """Reverse a posted entry with a new one that points at it (entries are never edited). Only
    entries without business state of their own may be corrected this way: adjustments."""
    if entry.cause != JournalEntry.Cause.ADJUSTMENT:
        raise LedgerError("only manual adjustments are corrected by reversal; use refunds or voids for the rest")
    if not reason.strip():
        raise LedgerError("a correction needs a reason")
    postings = [(line.account, -Decimal(line.amount)) for line in entry.lines.select_related("account")]
    return entry_post(
        key=f"correction:{entry.pk}",
        cause=JournalEntry.Cause.ADJUSTMENT,
        cause_id=entry.cause_id,
        postings=postings,
        actor=actor,
        memo=f"correction of {entry.idempotency_key}: {reason}"[:200],
        corrects=entry,
    )


def wallet_hold_entry(
    *, customer, currency: str, amount: Decimal, key: str, cause_id, memo: str, release: bool = False, accounts=None
) -> EntrySpec:
    """The entry that sets wallet money aside while an outside party (a card, a refund) settles, or
    gives it back (``release``). ``accounts`` looks accounts up (``account_for`` by default; batch
    work passes one that remembers them)."""
    accounts = accounts or account_for
    wallet = accounts(Account.Purpose.WALLET, currency, customer=customer)
    hold = accounts(Account.Purpose.WALLET_HOLD, currency, customer=customer)
    source, target = (hold, wallet) if release else (wallet, hold)
    return EntrySpec(
        key=key,
        cause=JournalEntry.Cause.WALLET_RELEASE if release else JournalEntry.Cause.WALLET_HOLD,
        cause_id=cause_id,
        postings=[(source, amount), (target, -amount)],
        memo=memo[:200],
    )


def wallet_hold(*, customer, currency: str, amount: Decimal, key: str, cause_id, memo: str, release: bool = False):
    """Post ``wallet_hold_entry``. Holding more than the wallet has raises InsufficientFunds."""
    spec = wallet_hold_entry(
        customer=customer, currency=currency, amount=amount, key=key, cause_id=cause_id, memo=memo, release=release
    )
    return entries_post([spec])[0]
