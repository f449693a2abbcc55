"""Append-only double-entry journal.

Sign convention: a line's ``amount`` is positive for a debit and negative for a credit. An entry's
lines sum to zero per currency. Asset and expense accounts are debit-normal (balance = sum of
amounts); liability, revenue and equity accounts are credit-normal (balance = minus the sum).

Lines are written before their entry (entries have a UUID chosen by the poster and foreign keys are
deferred), so the database can check the finished entry when the entry row arrives: triggers refuse
an entry with fewer than two lines or lines that do not balance, a line added to an entry already
posted, and any update or delete (migrations 0002).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", _("Asset")
        LIABILITY = "liability", _("Liability")
        REVENUE = "revenue", _("Revenue")
        EXPENSE = "expense", _("Expense")
        EQUITY = "equity", _("Equity")

    class Purpose(models.TextChoices):
        WALLET = "wallet", _("Customer wallet")
        WALLET_HOLD = "wallet_hold", _("Wallet money held for a payment in progress")
        REVENUE = "revenue", _("Revenue")
        TAX = "tax", _("Tax payable")
        CLEARING = "clearing", _("Payment provider clearing")
        VOUCHER_FLOAT = "voucher_float", _("Refill PIN float")
        VOUCHER_RECEIVABLE = "voucher_receivable", _("Refill PINs issued, not yet settled by distributors")
        VOUCHER_BREAKAGE = "voucher_breakage", _("Expired refill PINs")
        SHOP_CASH = "shop_cash", _("Shop cash drawer")
        REFUNDS = "refunds", _("Refunds")
        PROMOTIONS = "promotions", _("Promotions")
        ADJUSTMENTS = "adjustments", _("Manual adjustments")

    code = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    currency = models.CharField(max_length=3)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    reference = models.CharField(max_length=64, blank=True)
    # Wallets, holds and the voucher float must never be below zero (invariant 2).
    must_not_go_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # ``code`` is built from purpose, currency, owner and reference, so it is the unique key.
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def credit_normal(self) -> bool:
        return self.kind in {self.Kind.LIABILITY, self.Kind.REVENUE, self.Kind.EQUITY}


class JournalEntry(models.Model):
    class Cause(models.TextChoices):
        ORDER = "order", _("Order paid")
        WALLET_HOLD = "wallet_hold", _("Wallet money held")
        WALLET_RELEASE = "wallet_release", _("Wallet money released")
        TOPUP = "topup", _("Wallet top-up")
        VOUCHER_BATCH = "voucher_batch", _("Refill PIN batch issued")
        VOUCHER = "voucher", _("Refill PIN redeemed")
        VOUCHER_VOID = "voucher_void", _("Refill PIN voided or expired")
        REFUND = "refund", _("Refund")
        CASH = "cash", _("Cash taken in a shop")
        PROMOTION = "promotion", _("Promotion cost")
        ADJUSTMENT = "adjustment", _("Manual adjustment")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    idempotency_key = models.CharField(max_length=120, unique=True)
    cause = models.CharField(max_length=24, choices=Cause.choices)
    cause_id = models.CharField(max_length=64)
    memo = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=100)
    request_id = models.CharField(max_length=64, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["cause", "cause_id"])]
        permissions = [("adjust_wallet", "Can adjust customer wallets and correct adjustments")]

    def __str__(self) -> str:
        return f"{self.cause}:{self.cause_id} ({self.idempotency_key})"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["account", "entry"])]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="journal_line_not_zero")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount} {self.currency}"
