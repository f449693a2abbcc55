"""Line lifecycle state machine (domain.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class LineStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    GRACE = "grace"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"
    AGING = "aging"
    AVAILABLE = "available"
    RETAINED = "retained"
    PORTED_OUT = "ported_out"


class IllegalTransition(ValueError):
    code = "illegal_transition"


TRANSITIONS: dict[LineStatus, frozenset[LineStatus]] = {
    # A new line never paid for gives its number back (no aging: nobody ever had it).
    LineStatus.PENDING: frozenset({LineStatus.ACTIVE, LineStatus.RETAINED, LineStatus.AVAILABLE}),
    LineStatus.ACTIVE: frozenset({LineStatus.GRACE, LineStatus.RETAINED}),
    LineStatus.GRACE: frozenset({LineStatus.ACTIVE, LineStatus.SUSPENDED, LineStatus.RETAINED}),
    LineStatus.SUSPENDED: frozenset({LineStatus.ACTIVE, LineStatus.DEACTIVATED, LineStatus.RETAINED}),
    LineStatus.DEACTIVATED: frozenset({LineStatus.ACTIVE, LineStatus.AGING, LineStatus.RETAINED}),
    LineStatus.AGING: frozenset({LineStatus.AVAILABLE}),
    # A retained line is renewed onto a base plan (active) or, unpaid, lapses like any other.
    LineStatus.RETAINED: frozenset({LineStatus.ACTIVE, LineStatus.GRACE}),
    LineStatus.AVAILABLE: frozenset(),
    LineStatus.PORTED_OUT: frozenset(),
}
# Port-out is possible from any live state.
for _state in (LineStatus.ACTIVE, LineStatus.GRACE, LineStatus.SUSPENDED, LineStatus.RETAINED, LineStatus.PENDING):
    TRANSITIONS[_state] = TRANSITIONS[_state] | {LineStatus.PORTED_OUT}

TERMINAL = frozenset({LineStatus.AVAILABLE, LineStatus.PORTED_OUT})
# States in which the line has no running paid period: a renewal restarts it now.
LAPSED = frozenset({LineStatus.GRACE, LineStatus.SUSPENDED, LineStatus.DEACTIVATED})
RENEWABLE = frozenset({LineStatus.PENDING, LineStatus.ACTIVE, LineStatus.RETAINED}) | LAPSED


def check_transition(current: LineStatus, target: LineStatus) -> None:
    if target == current:
        return
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a line cannot go from {current} to {target}")


def is_renewable(status: LineStatus) -> bool:
    return status in RENEWABLE


def status_after_renewal(*, keeps_number_only: bool) -> LineStatus:
    """Where a paid renewal takes a line: retained while the period running now is a "keep my
    number" (retention) plan's, else active (also when no paid period runs now)."""
    return LineStatus.RETAINED if keeps_number_only else LineStatus.ACTIVE


@dataclass(frozen=True)
class LapseDeadlines:
    """When a line that was not renewed moves on (domain.md, each counted from the end of the last
    paid period): ``suspended_at`` ends grace (incoming calls and texts stop), ``deactivated_at``
    ends suspension, ``released_at`` ends the reactivation window: after it the number can no
    longer be renewed and goes to aging."""

    suspended_at: datetime
    deactivated_at: datetime
    released_at: datetime


def lapse_deadlines(
    period_end: datetime, *, grace_days: int, suspend_days: int, reactivation_days: int
) -> LapseDeadlines:
    suspended_at = period_end + timedelta(days=grace_days)
    deactivated_at = suspended_at + timedelta(days=suspend_days)
    return LapseDeadlines(suspended_at, deactivated_at, deactivated_at + timedelta(days=reactivation_days))
