"""Reads for the catalog pages: the markets and their plans with the prices in force. What a change
would do to the lines and orders that exist is the back office's question
(``refill.backoffice.catalog_previews``): the catalog knows nothing of sales."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from .models import Market, Plan, PlanPrice


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    price: PlanPrice | None  # in force now
    next_price: PlanPrice | None  # a later version already scheduled


def markets_overview(*, now: datetime | None = None) -> list[tuple[Market, list[PlanRow]]]:
    """Every market with its plans, each with the price in force now and any scheduled one."""
    now = now or timezone.now()
    markets = Market.objects.order_by("name").prefetch_related(
        Prefetch("plans", queryset=Plan.objects.prefetch_related("prices").order_by("kind", "sort_order", "code"))
    )
    overview = []
    for market in markets:
        rows = []
        for plan in market.plans.all():
            prices = sorted((p for p in plan.prices.all() if p.currency == market.currency), key=lambda p: p.version)
            running = [p for p in prices if p.valid_from <= now and (p.valid_until is None or p.valid_until > now)]
            later = [p for p in prices if p.valid_from > now]
            rows.append(PlanRow(plan, running[-1] if running else None, later[0] if later else None))
        overview.append((market, rows))
    return overview
