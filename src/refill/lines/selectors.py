"""Reads about lines."""

from __future__ import annotations

from collections import Counter

from refill.catalog.models import Market
from refill.domain.lifecycle import LAPSED, LapseDeadlines, lapse_deadlines

from .models import Line


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


def order_activates_line(order) -> bool:
    """Whether ``order`` was its line's first purchase (the payment that took it out of pending):
    an activation, told as such, not a renewal."""
    line = getattr(order, "line", None)
    return bool(
        line is not None and line.status_changes.filter(from_status="pending", reference=f"order:{order.pk}").exists()
    )
