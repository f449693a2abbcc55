"""What a refund left of the customer's line, for the refund email: a refund that ended the
order's service (periods revoked) changes when the line's paid time ends, and the customer is told
the new end in the same email as the money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from refill.domain.lifecycle import LineStatus
from refill.lines.selectors import line_lapse_deadlines
from refill.subscriptions.models import Period

from .models import Refund


@dataclass(frozen=True)
class LineAfterRefund:
    """``state``: "ends" (the line still has paid time, ending ``at``), "grace" (in grace until
    ``at``) or "ended" (its paid time ended ``at``)."""

    state: str
    at: datetime


def refund_line_after(refund: Refund) -> LineAfterRefund | None:
    """The line's end as it is after ``refund``, when the refund took service away (a goodwill
    refund that leaves the service running changes nothing to tell); None otherwise."""
    order = refund.order
    line = order.line
    if refund.status != Refund.Status.SUCCEEDED or line is None or line.period_end is None:
        return None
    if not Period.objects.filter(order_item__order=order, revoked_at__isnull=False).exists():
        return None
    # Only the refund that ended the service says so (a later one on the same order does not).
    last = order.refunds.filter(status=Refund.Status.SUCCEEDED).order_by("-pk").values_list("pk", flat=True).first()
    if last != refund.pk:
        return None
    if line.status in (LineStatus.ACTIVE, LineStatus.RETAINED):
        return LineAfterRefund("ends", line.period_end)
    deadlines = line_lapse_deadlines(line)
    if line.status == LineStatus.GRACE and deadlines is not None:
        return LineAfterRefund("grace", deadlines.suspended_at)
    return LineAfterRefund("ended", line.period_end)
