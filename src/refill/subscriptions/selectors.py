from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from refill.catalog.models import Plan
from refill.lines.models import Line

from .models import Bucket, Period


@dataclass(frozen=True)
class Allowance:
    kind: str
    granted: int
    used: int
    unlimited: bool

    @property
    def remaining(self) -> int:
        return max(self.granted - self.used, 0)

    @property
    def remaining_percent(self) -> int:
        if self.unlimited or not self.granted:
            return 100 if self.unlimited else 0
        return max(0, min(100, round(100 * self.remaining / self.granted)))


def live_at(now: datetime) -> Q:
    # A refund may revoke a period or bucket from an instant on; before it, it still counted.
    return Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)


def period_current(line: Line, now: datetime | None = None) -> Period | None:
    now = now or timezone.now()
    return line.periods.filter(live_at(now), start__lte=now, end__gt=now).select_related("plan").first()


def periods_ahead(line: Line, now: datetime | None = None) -> int:
    """Paid periods running now or not yet started (counted against max_prepaid_periods)."""
    now = now or timezone.now()
    return periods_ahead_of([line.pk], now).get(line.pk, 0)


def periods_ahead_of(line_ids: list[int], now: datetime) -> dict[int, int]:
    """periods_ahead for many lines in one query (lines with none are left out)."""
    return dict(
        Period.objects.filter(live_at(now), line_id__in=line_ids, end__gt=now)
        .order_by()
        .values("line_id")
        .annotate(count=Count("pk"))
        .values_list("line_id", "count")
    )


def buckets_now(line: Line, now: datetime):
    """The line's buckets valid now (not revoked by then), first to expire first."""
    return Bucket.objects.filter(live_at(now), line=line, valid_from__lte=now, expires_at__gt=now)


def line_allowances(line: Line, now: datetime | None = None) -> dict[str, Allowance]:
    """Usable balance per kind right now: buckets valid now, summed."""
    now = now or timezone.now()
    result: dict[str, Allowance] = {}
    buckets = buckets_now(line, now)
    for kind in (Bucket.Kind.DATA, Bucket.Kind.VOICE, Bucket.Kind.SMS):
        rows = [b for b in buckets if b.kind == kind]
        if not rows:
            continue
        result[kind] = Allowance(
            kind=kind,
            granted=sum(b.granted for b in rows if not b.unlimited),
            used=sum(b.used for b in rows),
            unlimited=any(b.unlimited for b in rows),
        )
    return result


def line_current_plan(line: Line, now: datetime | None = None) -> Plan:
    current = period_current(line, now)
    return current.plan if current else line.plan


def lines_for_customer(customer) -> list[Line]:
    return list(
        Line.objects.filter(owner=customer)
        .exclude(Q(status="available") | Q(status="ported_out"))
        .select_related("plan", "market", "auto_renew")
        .order_by("msisdn")
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
    ahead = list(
        Period.objects.filter(live_at(now), line=line, start__gt=now)
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
