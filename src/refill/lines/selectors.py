"""Reads about lines."""

from __future__ import annotations

from refill.domain.lifecycle import LAPSED, LapseDeadlines, lapse_deadlines

from .models import Line


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
