"""Reads for the back office's first page: today's renewals and revenue, auto-renewals that failed,
support requests waiting, low eSIM stock. Each figure is one query (or two), whatever the amount of
data, and only the figures the staff member's role may see are read at all.

"Today" is the operator's day: midnight to midnight in ``REFILL_DEFAULT_TIME_ZONE`` (the zone new
customers start in). The reports page counts each market on its own local days instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from refill.domain.lifecycle import LineStatus
from refill.esim.models import NewLineWait
from refill.esim.stock import stock_levels
from refill.formatting import zone_text
from refill.lines.models import Line
from refill.orders.errors import autorenew_reason
from refill.orders.models import Order, OrderItem
from refill.renewals.models import RenewalAttempt
from refill.support.models import Ticket
from refill.support.selectors import OPEN_STATUSES

# The attempts that did not renew a line: declined or refused, and those the spending cap stopped.
NOT_RENEWED = (RenewalAttempt.Status.FAILED, RenewalAttempt.Status.OVER_CAP)
# Lines whose failed renewal nobody can act on any more.
GONE = (LineStatus.AVAILABLE, LineStatus.PORTED_OUT, LineStatus.DEACTIVATED, LineStatus.AGING)
# Lines needing attention listed on the first page itself (the rest on their own page).
ATTENTION_SHOWN = 5


@dataclass(frozen=True)
class Today:
    """The operator's day: its date, zone and the instants [start, end) it runs between."""

    day: date
    zone: ZoneInfo
    start: datetime
    end: datetime

    @property
    def zone_name(self) -> str:
        """The zone as people say it ("Eastern Standard Time (UTC-5)", "北京时间")."""
        return zone_text(self.start.astimezone(self.zone))


def operator_today(now: datetime | None = None) -> Today:
    zone = ZoneInfo(settings.REFILL_DEFAULT_TIME_ZONE)
    day = timezone.localtime(now or timezone.now(), zone).date()
    # Midnight to the next local midnight, as instants (a day of 23 or 25 hours when the clocks change).
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return Today(day=day, zone=zone, start=start, end=end)


@dataclass(frozen=True)
class Revenue:
    currency: str
    amount: Decimal


@dataclass
class Dashboard:
    today: Today
    # Each figure is None when the staff member's role may not see it.
    renewals: int | None = None
    revenue: list[Revenue] | None = None
    failed_today: int | None = None
    attention: int | None = None
    attention_lines: list[Line] = field(default_factory=list)
    tickets_waiting: int | None = None
    waiting_since: datetime | None = None
    esim_low: list | None = None
    esim_waiting: int | None = None


def sales_today(today: Today) -> tuple[int, list[Revenue]]:
    """Renewal orders paid today, and what renewals and add-on passes paid today brought in, per
    currency (gross, tax included; the reports' "renewals and revenue" for the operator's day).
    One query."""
    renewal = Exists(OrderItem.objects.filter(order=OuterRef("pk"), kind=OrderItem.Kind.RENEWAL))
    addon = Exists(OrderItem.objects.filter(order=OuterRef("pk"), kind=OrderItem.Kind.ADDON))
    rows = (
        Order.objects.filter(renewal | addon, status=Order.Status.PAID, paid_at__gte=today.start, paid_at__lt=today.end)
        .annotate(is_renewal=renewal)
        .values("currency")
        .annotate(renewals=Count("pk", filter=Q(is_renewal=True)), revenue=Sum("total"))
        .order_by("currency")
    )
    rows = list(rows)
    revenue = [Revenue(row["currency"], Decimal(row["revenue"] or 0)) for row in rows]
    return sum(row["renewals"] for row in rows), revenue


def lines_needing_attention(*, failed_since: datetime | None = None) -> QuerySet[Line]:
    """Lines whose automatic renewal of the period running now failed (or hit the cap) and has not
    succeeded since, still holding their number: the customer may need a call. Each carries its last
    failure (``failed_at``, ``failed_reason``); the latest failure first. With ``failed_since``, only
    those that failed since then."""
    cycle = RenewalAttempt.objects.filter(line=OuterRef("pk"), cycle_end=OuterRef("period_end"))
    failed = cycle.filter(status__in=NOT_RENEWED)
    if failed_since is not None:
        failed = failed.filter(finished_at__gte=failed_since)
    last = failed.order_by("-finished_at", "-pk")
    return (
        Line.objects.filter(Exists(failed), period_end__isnull=False)
        .exclude(Exists(cycle.filter(status=RenewalAttempt.Status.SUCCEEDED)))
        .exclude(status__in=GONE)
        .annotate(
            failed_at=Subquery(last.values("finished_at")[:1]),
            failed_reason=Subquery(last.values("reason")[:1]),
            failed_status=Subquery(last.values("status")[:1]),
        )
        .select_related("owner", "market", "plan")
        .order_by("-failed_at", "-pk")
    )


def with_reason_text(lines) -> list[Line]:
    """The lines, each with ``failed_reason_text``: why its renewal failed, in words (not the code)."""
    found = list(lines)
    for line in found:
        line.failed_reason_text = str(autorenew_reason(line.failed_reason)) if line.failed_reason else ""
    return found


def dashboard(user, now: datetime | None = None) -> Dashboard:
    """The figures ``user`` may see (their role's permissions), for the operator's today."""
    today = operator_today(now)
    board = Dashboard(today=today)
    if user.has_perm("backoffice.view_reports"):
        board.renewals, board.revenue = sales_today(today)
    if user.has_perm("backoffice.view_customer"):
        # Failed today and not renewed since (a retry that renewed the line leaves nothing to do).
        board.failed_today = lines_needing_attention(failed_since=today.start).count()
        attention = lines_needing_attention()
        board.attention = attention.count()
        board.attention_lines = with_reason_text(attention[:ATTENTION_SHOWN]) if board.attention else []
    if user.has_perm("support.view_ticket"):
        waiting = Ticket.objects.filter(status__in=OPEN_STATUSES, awaiting_since__isnull=False).aggregate(
            count=Count("pk"), since=Min("awaiting_since")
        )
        board.tickets_waiting, board.waiting_since = waiting["count"], waiting["since"]
    if user.has_perm("esim.view_profile"):
        board.esim_low = [level for level in stock_levels() if level.low]
        board.esim_waiting = NewLineWait.objects.filter(status=NewLineWait.Status.WAITING).count()
    return board
