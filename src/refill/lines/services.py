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
    """Active lines whose period ended go to grace; grace lines past their market's grace days go
    to suspended. Safe to run twice or on two machines: each line is re-read under its lock."""
    now = now or timezone.now()
    moved = 0
    due = list(
        Line.objects.filter(status=LineStatus.ACTIVE, period_end__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    grace = Line.objects.filter(status=LineStatus.GRACE).select_related("market").order_by("pk")[:batch]
    due_grace = [
        line.pk for line in grace if line.period_end and line.period_end + timedelta(days=line.market.grace_days) <= now
    ]
    for pk, target in [(pk, LineStatus.GRACE) for pk in due] + [(pk, LineStatus.SUSPENDED) for pk in due_grace]:
        with transaction.atomic():
            line = Line.objects.select_related("market").select_for_update(of=("self",)).get(pk=pk)
            if line.period_end is None or line.period_end > now:
                continue
            if target == LineStatus.SUSPENDED and line.period_end + timedelta(days=line.market.grace_days) > now:
                continue
            expected = LineStatus.ACTIVE if target == LineStatus.GRACE else LineStatus.GRACE
            if line.status != expected:
                continue
            line_transition(
                line=line, target=target, cause="period_ended" if target == LineStatus.GRACE else "grace_ended"
            )
            line.save(update_fields=["status", "status_changed_at"])
            moved += 1
    return moved
