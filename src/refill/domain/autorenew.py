"""Auto-renew rules (domain.md): when attempts are due, and what the spending caps allow."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# Failed attempts retry 6 h and 24 h after the first one, then at expiry, a day and three days after.
RETRY_AFTER_FIRST = (timedelta(hours=6), timedelta(hours=24))
RETRY_AROUND_END = (timedelta(0), timedelta(days=1), timedelta(days=3))


def retry_times(*, first_at: datetime, cycle_end: datetime, grace_end: datetime) -> list[datetime]:
    """When attempts 2, 3, … are due after a first attempt at ``first_at``: the default schedule,
    in order, without times that fall before the previous attempt (a short lead can put "+24 h" after
    the expiry) or at or after the end of the grace period, when retries stop."""
    candidates = sorted([first_at + delay for delay in RETRY_AFTER_FIRST] + [cycle_end + d for d in RETRY_AROUND_END])
    times: list[datetime] = []
    last = first_at
    for candidate in candidates:
        if last < candidate < grace_end:
            times.append(candidate)
            last = candidate
    return times


def next_attempt_at(
    *, first_at: datetime, cycle_end: datetime, grace_end: datetime, after: datetime
) -> datetime | None:
    """The first scheduled retry later than ``after``, or None when no retry is left."""
    for candidate in retry_times(first_at=first_at, cycle_end=cycle_end, grace_end=grace_end):
        if candidate > after:
            return candidate
    return None


def cap_refusal(
    *, price: Decimal, cap_per_renewal: Decimal | None, cap_per_month: Decimal | None, spent_this_month: Decimal
) -> str | None:
    """Why a renewal at ``price`` may not be attempted under the caps, or None if it may."""
    if cap_per_renewal is not None and price > cap_per_renewal:
        return "renewal_cap"
    if cap_per_month is not None and spent_this_month + price > cap_per_month:
        return "month_cap"
    return None


def month_window(at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar month containing ``at`` in ``zone``, as [start, end) instants."""
    local = at.astimezone(zone)
    start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=zone)
    next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, datetime.combine(next_month.date(), time(0), tzinfo=zone)


def quiet_until(at: datetime, zone: ZoneInfo, *, start_hour: int = 21, end_hour: int = 9) -> datetime | None:
    """If ``at`` falls in the quiet hours (local ``start_hour``:00 to ``end_hour``:00 in ``zone``),
    the instant they end; otherwise None. Computed on the local calendar, so a DST change during the
    night still ends the quiet hours at ``end_hour``:00 local time."""
    local = at.astimezone(zone)
    if start_hour <= end_hour:
        quiet = start_hour <= local.hour < end_hour
    else:
        quiet = local.hour >= start_hour or local.hour < end_hour
    if not quiet:
        return None
    day = local.date() if local.hour < end_hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end_hour), tzinfo=zone)
