"""Period arithmetic (domain.md renewal rules 1-3).

All instants are timezone-aware UTC datetimes. Calendar arithmetic happens in the market's zone:
"N days" means N calendar days at the same wall-clock time there (so a 1-day plan bought at 10:00
ends at 10:00 the next day even across a DST change), and a calendar month keeps the anniversary
day of the line's first period, clamped to the month's last day, so it never drifts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class ValidityKind(StrEnum):
    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


@dataclass(frozen=True, slots=True)
class Validity:
    kind: ValidityKind
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("validity count must be at least 1")


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not allowed; store and pass UTC")


def _local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # A wall-clock time skipped by a DST jump does not exist; fold=0 resolves it to the
    # earlier offset, which moves it forward past the gap once normalised through UTC.
    return local.replace(tzinfo=zone).astimezone(UTC)


def add_months(moment: datetime, months: int, zone: ZoneInfo, anchor_day: int | None = None) -> datetime:
    """Add calendar months in ``zone``, keeping ``anchor_day`` (default: moment's local day) and
    clamping to the month's last day."""
    _require_aware(moment)
    local = moment.astimezone(zone).replace(tzinfo=None)
    day = anchor_day or local.day
    month_index = local.month - 1 + months
    year = local.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return _local_to_utc(local.replace(year=year, month=month, day=min(day, last_day)), zone)


def add_days(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    _require_aware(moment)
    local = moment.astimezone(zone).replace(tzinfo=None)
    return _local_to_utc(local + timedelta(days=days), zone)


def period_end(start: datetime, validity: Validity, zone: ZoneInfo, anchor_day: int | None = None) -> datetime:
    match validity.kind:
        case ValidityKind.DAYS:
            return add_days(start, validity.count, zone)
        case ValidityKind.MONTHS:
            return add_months(start, validity.count, zone, anchor_day)
        case ValidityKind.YEARS:
            return add_months(start, 12 * validity.count, zone, anchor_day)
    raise ValueError(f"unknown validity kind {validity.kind}")


def renewal_start(*, current_end: datetime | None, now: datetime, lapsed: bool) -> datetime:
    """Rule 1 and 2: early renewal stacks on the current end; a lapsed line restarts now and is
    never charged for the lapsed days."""
    _require_aware(now)
    if current_end is None or lapsed or current_end <= now:
        return now
    return current_end


def plan_periods(
    *,
    current_end: datetime | None,
    now: datetime,
    lapsed: bool,
    validity: Validity,
    count: int,
    zone: ZoneInfo,
    anchor_day: int | None = None,
) -> list[Span]:
    """The spans ``count`` renewals would grant, contiguous from the renewal start.

    Every end is computed from the first start (k months from the anchor), not by chaining, so a
    31st-of-month line goes Jan 31 -> Feb 28 -> Mar 31 instead of drifting to the 28th.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    start = renewal_start(current_end=current_end, now=now, lapsed=lapsed)
    if validity.kind is not ValidityKind.DAYS and anchor_day is None:
        anchor_day = start.astimezone(zone).day
    spans: list[Span] = []
    cursor = start
    for index in range(1, count + 1):
        if validity.kind is ValidityKind.DAYS:
            end = add_days(start, validity.count * index, zone)
        else:
            months = validity.count * (12 if validity.kind is ValidityKind.YEARS else 1)
            end = add_months(start, months * index, zone, anchor_day)
        spans.append(Span(cursor, end))
        cursor = end
    return spans


def prepaid_periods_ahead(period_ends: list[datetime], now: datetime) -> int:
    """How many paid periods have not started yet or are running now."""
    return sum(1 for end in period_ends if end > now)


def prepaid_room(*, limit: int, ahead: int, lapsed: bool, in_flight: int = 0) -> int:
    """Rule 1: how many more periods (bought and free alike) a line may be prepaid now: its plan's
    ``max_prepaid_periods`` less the periods running now or not yet started (``ahead``) and those
    other orders of the line are being paid for (``in_flight``). A lapsed line restarts now, so
    what it had does not count, but periods being paid for do (they would stack on the restart).
    Never negative (a limit lowered after prepaying leaves no room). The one computation behind the
    quote's limit and the check made again before any money moves."""
    return max(limit - (0 if lapsed else ahead) - in_flight, 0)


def prepaid_fits(*, periods: int, free: int = 0, room: int) -> bool:
    """Whether ``periods`` bought periods (at least one) and ``free`` promotion periods fit ``room``."""
    return periods >= 1 and periods + free <= room
