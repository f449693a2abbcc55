"""Allowance buckets across periods (domain.md renewal rule 6)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

# The usage notices: percent of a bucket used, highest crossed wins. Metering (subscriptions) marks
# the crossing and notifications words it, so the numbers live below both.
USAGE_THRESHOLDS = (100, 90, 75)


class Rollover(StrEnum):
    EXPIRE = "expire"  # the default: unused allowance expires with its period
    ONCE = "once"  # unused allowance lives on through the next period, and only that one


def rolled_over_until(
    rule: str, rolled_over: bool, expires_at: datetime, *, next_start: datetime, next_end: datetime
) -> datetime | None:
    """The new expiry of a period bucket when the line's next period [next_start, next_end) is
    granted, or None if it keeps its own. Under "roll over once" a bucket that ends where the next
    period starts lives on to that period's end; a bucket already rolled over never rolls again, so
    unused allowance outlives its own period by one period at most."""
    if rule != Rollover.ONCE or rolled_over or expires_at != next_start or next_end <= next_start:
        return None
    return next_end
