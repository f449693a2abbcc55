"""Reads for the catalog pages: the markets and their plans with the prices in force. What a change
would do to the lines and orders that exist is the back office's question
(``refill.backoffice.catalog_previews``): the catalog knows nothing of sales."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from refill.domain import payment_methods as pay_rule

from .models import Market, MarketPayMethod, Plan, PlanPrice


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


@dataclass(frozen=True)
class PayMethodSetting:
    """One way to pay as a market's setting has it: its family, and whether it is switched on."""

    method: str
    enabled: bool


def market_pay_methods_on(market: Market | int | str) -> list[str] | None:
    """The ways to pay (families) ``market``'s checkouts offer (the market, its pk or its code),
    switched on and in the operator's order; None when the market has no setting (Refill's
    defaults then: every way, in the order of ``refill.domain.payment_methods``)."""
    if isinstance(market, str):
        rows_of = MarketPayMethod.objects.filter(market__code=market)
    else:
        rows_of = MarketPayMethod.objects.filter(market_id=market if isinstance(market, int) else market.pk)
    rows = list(rows_of.order_by("position", "pk"))
    if not rows:
        return None
    return [row.method for row in rows if row.enabled]


def market_pay_methods(market: Market) -> list[PayMethodSetting]:
    """Every way to pay with its place and state in ``market``'s setting, as the back office shows
    it: a market without a setting has every way on in the default order; a way Refill learnt after
    the setting was saved comes last, off (the operator never chose it)."""
    rows = list(MarketPayMethod.objects.filter(market=market).order_by("position", "pk"))
    if not rows:
        return [PayMethodSetting(method, True) for method in pay_rule.market_order(market.code)]
    settings = [PayMethodSetting(row.method, row.enabled) for row in rows if row.method in pay_rule.FAMILIES]
    known = {setting.method for setting in settings}
    return settings + [PayMethodSetting(method, False) for method in pay_rule.FAMILIES if method not in known]
