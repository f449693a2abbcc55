"""Reads for the back-office pages: the trial balance and customer statements, straight from the
journal; promotions with their redemptions and what they cost."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.catalog.models import Market
from refill.ledger.models import Account, JournalLine
from refill.orders.models import Order
from refill.promotions.models import Promotion, Redemption


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


# Promotions -------------------------------------------------------------------------------------


class PromotionState(models.TextChoices):
    """Where a promotion stands now. An ended promotion is ended even if it is also paused; a paused
    one is paused whether or not its window has opened."""

    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


def _state_filter(state: str, now: datetime) -> Q:
    not_ended = Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    return {
        PromotionState.ENDED: Q(ends_at__lte=now),
        PromotionState.PAUSED: Q(paused=True) & not_ended,
        PromotionState.SCHEDULED: Q(paused=False, starts_at__gt=now) & not_ended,
        # The same test as the one orders use (promotions.services.promotions_for).
        PromotionState.RUNNING: Q(paused=False, starts_at__lte=now) & not_ended,
    }[PromotionState(state)]


def promotion_state(promotion: Promotion, now: datetime | None = None) -> PromotionState:
    now = now or timezone.now()
    if promotion.ends_at is not None and promotion.ends_at <= now:
        return PromotionState.ENDED
    if promotion.paused:
        return PromotionState.PAUSED
    if promotion.starts_at > now:
        return PromotionState.SCHEDULED
    return PromotionState.RUNNING


def promotions_list(*, market: Market | None = None, state: str = "", now: datetime | None = None) -> list[Promotion]:
    """Promotions (of ``market``, in ``state``), latest start first, each with its ``state`` and
    ``paid_cost``: what its redemptions on paid orders cost."""
    now = now or timezone.now()
    promotions = Promotion.objects.select_related("market").annotate(
        paid_cost=Sum("redemptions__cost", filter=Q(redemptions__status=Redemption.Status.REDEEMED))
    )
    if market is not None:
        promotions = promotions.filter(market=market)
    if state:
        promotions = promotions.filter(_state_filter(state, now))
    found = list(promotions.order_by("-starts_at", "-pk"))
    for promotion in found:
        promotion.state = promotion_state(promotion, now)
        promotion.paid_cost = Decimal(promotion.paid_cost or 0)
    return found


def promotion_redemptions(promotion: Promotion) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(promotion=promotion)
        .select_related("order__customer", "order__line")
        .order_by("-created_at", "-pk")
    )


def promotion_redemption_totals(promotion: Promotion) -> dict:
    """Count, discount and cost of the promotion's redemptions per status (every status listed,
    in the Status order), and over all of them."""
    rows = {
        row["status"]: row
        for row in Redemption.objects.filter(promotion=promotion)
        .values("status")
        .annotate(count=Count("pk"), discount=Sum("discount"), cost=Sum("cost"))
        .order_by()
    }
    statuses = [
        {
            "status": status,
            "label": label,
            "count": rows.get(status, {}).get("count", 0),
            "discount": Decimal(rows.get(status, {}).get("discount") or 0),
            "cost": Decimal(rows.get(status, {}).get("cost") or 0),
        }
        for status, label in Redemption.Status.choices
    ]
    return {
        "statuses": statuses,
        "count": sum(row["count"] for row in statuses),
        "discount": sum((row["discount"] for row in statuses), Decimal(0)),
        "cost": sum((row["cost"] for row in statuses), Decimal(0)),
    }
