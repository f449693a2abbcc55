"""Closing the hole a refund leaves in a line's prepaid time.

When a refund revokes a period (the running one from now, or one not yet started), the periods
paid after it would otherwise still start where they were stacked: the line would show "active"
with no allowance until the next of them begins. A careful carrier gives the customer the time
they still paid for, at once and without a gap: every later period that still counts moves up to
follow what remains, keeping its own length (a day-count plan its days, a calendar-month plan its
months from the new anchor day), and its buckets move with it. Nothing is deleted; periods that
have not started have no usage, so only their dates change.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max

from refill.catalog.models import Plan
from refill.domain.periods import ValidityKind, period_end
from refill.lines.models import Line

from .models import Bucket, Period


def _effective_end(period: Period) -> datetime:
    return min(period.end, period.revoked_at) if period.revoked_at is not None else period.end


def periods_move_up(*, line: Line, now: datetime) -> list[Period]:
    """Move the line's periods that have not started at ``now`` and still count so that they
    follow, with no gap, the time the line still has at ``now`` (or start at ``now`` when it has
    none left). Returns the periods moved. Call with the line locked, inside the refund's
    transaction; calling it again changes nothing."""
    counting = list(Period.objects.filter(line=line).select_related("plan").order_by("start", "pk"))
    started = [p for p in counting if p.start <= now and _effective_end(p) > p.start]
    cursor = max([now, *(_effective_end(p) for p in started)])
    later = [p for p in counting if p.start > now and p.revoked_at is None]
    zone = line.market.zone
    moved: list[Period] = []
    starts: dict[datetime, datetime] = {}
    ends: dict[datetime, datetime] = {}
    anchor = None
    for period in later:
        if period.start == cursor:
            cursor = period.end
            continue
        plan: Plan = period.plan
        if plan.validity.kind is not ValidityKind.DAYS and anchor is None:
            # Rule 3 from the new start: the month's anniversary is the day the moved time begins.
            anchor = cursor.astimezone(zone).day
        monthly = plan.validity.kind is not ValidityKind.DAYS
        new_end = period_end(cursor, plan.validity, zone, anchor if monthly else None)
        starts[period.start], ends[period.end] = cursor, new_end
        period.start, period.end = cursor, new_end
        moved.append(period)
        cursor = new_end
    if not moved:
        return []
    # One at a time, earliest first: each new start is before the old one, so the (line, start)
    # constraint never sees two counting periods on one instant.
    for period in moved:
        period.save(update_fields=["start", "end"])
    buckets = Bucket.objects.filter(line=line, revoked_at__isnull=True).filter(
        period__in=moved
    ) | Bucket.objects.filter(line=line, revoked_at__isnull=True, expires_at__in=list(ends))
    for bucket in buckets.distinct():
        bucket.valid_from = starts.get(bucket.valid_from, bucket.valid_from)
        bucket.expires_at = ends.get(bucket.expires_at, bucket.expires_at)
        bucket.save(update_fields=["valid_from", "expires_at"])
    if anchor is not None:
        line.anchor_day = anchor
    return moved


def line_plan_after_revoke(line: Line) -> Plan:
    """The plan the line really has once periods were revoked: that of its last period that still
    counts (the one auto-renew and the next renewal continue, possibly one that ran out before),
    else, when nothing was ever left, the plan it had."""
    last = Period.objects.filter(line=line, revoked_at__isnull=True).select_related("plan").order_by("-start").first()
    return last.plan if last is not None else line.plan


def line_end_after_revoke(line: Line, now: datetime) -> datetime:
    """The end of the time the line still has: its last counting period's end, or the instant a
    truncated period stopped."""
    counting = Period.objects.filter(line=line, revoked_at__isnull=True).aggregate(end=Max("end"))["end"]
    truncated = [
        p.revoked_at for p in Period.objects.filter(line=line, revoked_at__isnull=False) if p.revoked_at > p.start
    ]
    return max([value for value in [counting, *truncated] if value is not None], default=now)
