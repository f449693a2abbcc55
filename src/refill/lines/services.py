from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from refill.domain.lifecycle import LineStatus, check_transition

from .models import Line, LineStatusChange


def line_transition(*, line: Line, target: LineStatus, cause: str, reference: str = "") -> bool:
    """Move a locked line along the lifecycle and record why. Returns False if already there."""
    current = LineStatus(line.status)
    if current == target:
        return False
    check_transition(current, target)
    LineStatusChange.objects.create(line=line, from_status=current, to_status=target, cause=cause, reference=reference)
    line.status = target
    line.status_changed_at = timezone.now()
    return True


def lines_lapse_sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Apply the period-driven transitions that are due, each re-checked under the line's lock,
    so running the sweep twice, late, or on two machines changes nothing more:

    - active or retained lines whose paid period ended go to grace;
    - grace lines past their market's grace days go to suspended;
    - at a period boundary, a line whose running period is the retention plan becomes retained,
      and a retained line whose running period is a base plan becomes active again.
    """
    from refill.catalog.models import Market

    now = now or timezone.now()
    due: list[tuple[int, LineStatus, str]] = []
    for pk in (
        Line.objects.filter(status__in=[LineStatus.ACTIVE, LineStatus.RETAINED], period_end__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    ):
        due.append((pk, LineStatus.GRACE, "period_ended"))
    for market in Market.objects.all():
        ended_before = now - timedelta(days=market.grace_days)
        for pk in (
            Line.objects.filter(market=market, status=LineStatus.GRACE, period_end__lte=ended_before)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        ):
            due.append((pk, LineStatus.SUSPENDED, "grace_ended"))
    running = {"periods__start__lte": now, "periods__end__gt": now}
    for pk in Line.objects.filter(status=LineStatus.ACTIVE, periods__plan__kind="retention", **running).values_list(
        "pk", flat=True
    )[:batch]:
        due.append((pk, LineStatus.RETAINED, "retention_period_started"))
    for pk in Line.objects.filter(status=LineStatus.RETAINED, periods__plan__kind="base", **running).values_list(
        "pk", flat=True
    )[:batch]:
        due.append((pk, LineStatus.ACTIVE, "base_period_started"))
    moved = 0
    for pk, target, cause in due:
        with transaction.atomic():
            line = Line.objects.select_related("market").select_for_update(of=("self",)).get(pk=pk)
            if _still_due(line, target, now):
                line_transition(line=line, target=target, cause=cause)
                line.save(update_fields=["status", "status_changed_at"])
                moved += 1
    return moved


def _still_due(line: Line, target: LineStatus, now: datetime) -> bool:
    status = LineStatus(line.status)
    if target == LineStatus.GRACE:
        return (
            status in (LineStatus.ACTIVE, LineStatus.RETAINED)
            and line.period_end is not None
            and line.period_end <= now
        )
    if target == LineStatus.SUSPENDED:
        return (
            status == LineStatus.GRACE
            and line.period_end is not None
            and line.period_end + timedelta(days=line.market.grace_days) <= now
        )
    current = line.periods.filter(start__lte=now, end__gt=now).select_related("plan").first()
    if current is None:
        return False
    if target == LineStatus.RETAINED:
        return status == LineStatus.ACTIVE and current.plan.kind == "retention"
    return status == LineStatus.RETAINED and current.plan.kind == "base"
