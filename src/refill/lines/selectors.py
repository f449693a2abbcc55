"""Reads about lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q

from refill.catalog.models import Market, Plan
from refill.domain.lifecycle import LAPSED, LapseDeadlines, lapse_deadlines

from .models import Line

if TYPE_CHECKING:
    from refill.subscriptions.models import Period


def customer_markets_ranked(customer, markets=None) -> list:
    """``markets`` (by default those of the customer's lines) with the customer's own market first:
    the one most of their lines are in; on a tie (or with no lines there), the one in their own
    time zone; then the one they joined with (their oldest line); then by code. One rule for every
    default that should feel like home: the wallet top-up's currency, a new number's country. A US
    customer with one travel line in China is not offered CNY or +86 first."""
    lines = list(Line.objects.filter(owner=customer).order_by("pk").values_list("market_id", flat=True))
    if markets is None:
        markets = list(Market.objects.filter(pk__in=set(lines)))
    counts = Counter(lines)
    first_seen = {market_id: lines.index(market_id) for market_id in counts}

    def rank(market):
        return (
            -counts[market.pk],
            market.time_zone != customer.time_zone,
            first_seen.get(market.pk, len(lines)),
            market.code,
        )

    return sorted(markets, key=rank)


def line_lapse_deadlines(line: Line) -> LapseDeadlines | None:
    """For a line in grace, suspended or deactivated: when it moves on, by its market's timers
    (the same ones ``lines_lapse_sweep`` applies). None for any other line."""
    if line.status not in LAPSED or line.period_end is None:
        return None
    market = line.market
    return lapse_deadlines(
        line.period_end,
        grace_days=market.grace_days,
        suspend_days=market.suspend_days,
        reactivation_days=market.reactivation_days,
    )


@dataclass(frozen=True)
class PlanRun:
    """Periods of one plan in a row among the queued ones."""

    plan: Plan
    count: int


@dataclass(frozen=True)
class Queued:
    """The paid periods of a line that start after the one running now: the first of them (its
    plan and start) and where the last one ends (the date the line is paid through)."""

    first: Period
    count: int
    paid_through: datetime
    # The plans in the order they run, each with how many periods in a row it has: one run when
    # every queued period is the same plan, several when they differ ("Monthly → 30-Day × 2").
    runs: tuple[PlanRun, ...] = ()

    @property
    def plans_text(self) -> str:
        """The queued plans in order, in the active language: "Monthly Unlimited → 30-Day Plan × 2"."""
        names = (f"{run.plan.name} × {run.count}" if run.count > 1 else str(run.plan.name) for run in self.runs)
        return " → ".join(names)


def line_queued(line: Line, now: datetime) -> Queued | None:
    """What follows the running period (None when nothing does). A period refunded before it
    starts is not counted; only live periods that start from now on are."""
    from refill.subscriptions.models import Period

    ahead = list(
        Period.objects.filter(line=line, start__gt=now)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
        .select_related("plan")
        .order_by("start")
    )
    if not ahead:
        return None
    runs: list[PlanRun] = []
    for period in ahead:
        if runs and runs[-1].plan == period.plan:
            runs[-1] = PlanRun(plan=period.plan, count=runs[-1].count + 1)
        else:
            runs.append(PlanRun(plan=period.plan, count=1))
    return Queued(first=ahead[0], count=len(ahead), paid_through=ahead[-1].end, runs=tuple(runs))
