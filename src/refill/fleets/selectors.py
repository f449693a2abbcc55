"""What a business sees of its fleet: lines with their groups, what expires soon, usage per
group, and spend per month."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from refill.lines.models import Line
from refill.orders.models import Order
from refill.renewals.models import AutoRenew
from refill.subscriptions.models import Bucket

from .models import LineGroup
from .numbers import RELEASED

RUNNING = ("active", "retained", "grace")


def fleet_lines(customer, *, group: str = "", status: str = "", query: str = "") -> QuerySet[Line]:
    lines = (
        Line.objects.filter(owner=customer)
        .exclude(status__in=RELEASED)
        .select_related("plan", "next_plan", "market", "fleet_group__group")
        .order_by("msisdn")
    )
    if group == "none":
        lines = lines.filter(fleet_group__isnull=True)
    elif group.isdigit():
        lines = lines.filter(fleet_group__group_id=int(group))
    if status:
        lines = lines.filter(status=status)
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        condition = Q(label__icontains=query)
        if digits:
            condition |= Q(msisdn__contains=digits)
        lines = lines.filter(condition)
    return lines


def auto_renew_of(lines: list[Line]) -> set[int]:
    return set(AutoRenew.objects.filter(line__in=lines, enabled=True).values_list("line_id", flat=True))


def expiring(customer, now: datetime, days: int) -> QuerySet[Line]:
    return (
        fleet_lines(customer)
        .filter(status__in=RUNNING, period_end__gte=now, period_end__lt=now + timedelta(days=days))
        .order_by("period_end", "msisdn")
    )


def usage_per_group(customer, now: datetime) -> list[dict]:
    """Per group (and the lines in none), the allowance running now: granted and used per kind."""
    names = dict(LineGroup.objects.filter(customer=customer).values_list("pk", "name"))
    rows = (
        Bucket.objects.filter(
            line__owner=customer, valid_from__lte=now, expires_at__gt=now, revoked_at__isnull=True, unlimited=False
        )
        .values("line__fleet_group__group_id", "kind")
        .annotate(granted=Sum("granted"), used=Sum("used"))
        .order_by()
    )
    groups: dict[int | None, dict] = {}
    for row in rows:
        group_id = row["line__fleet_group__group_id"]
        entry = groups.setdefault(group_id, {"group_id": group_id, "name": names.get(group_id, ""), "kinds": {}})
        granted, used = int(row["granted"] or 0), int(row["used"] or 0)
        entry["kinds"][row["kind"]] = {
            "granted": granted,
            "used": used,
            "percent": round(100 * used / granted) if granted else 0,
        }
    counts = defaultdict(int)
    for group_id in fleet_lines(customer).values_list("fleet_group__group_id", flat=True):
        counts[group_id] += 1
    for group_id, count in counts.items():
        groups.setdefault(group_id, {"group_id": group_id, "name": names.get(group_id, ""), "kinds": {}})
        groups[group_id]["lines"] = count
    for pk, name in names.items():
        groups.setdefault(pk, {"group_id": pk, "name": name, "kinds": {}})
    ordered = sorted(groups.values(), key=lambda g: (g["group_id"] is None, g["name"].lower()))
    for entry in ordered:
        entry.setdefault("lines", 0)
        entry["cells"] = [(kind, entry["kinds"].get(kind)) for kind in ("data", "voice", "sms")]
    return ordered


def spend_per_month(customer, now: datetime, months: int = 12) -> list[dict]:
    """What the business paid for its lines (renewals and passes, not wallet top-ups) per calendar
    month in its time zone, the last ``months`` months, oldest first, per currency."""
    zone = customer.zone
    local = now.astimezone(zone)
    keys = []
    year, month = local.year, local.month
    for _ in range(months):
        keys.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    start = local.replace(year=keys[0][0], month=keys[0][1], day=1, hour=0, minute=0, second=0, microsecond=0)
    totals: dict[tuple[int, int, str], Decimal] = defaultdict(Decimal)
    currencies = set()
    for paid_at, total, currency in Order.objects.filter(
        customer=customer, status=Order.Status.PAID, line__isnull=False, paid_at__gte=start
    ).values_list("paid_at", "total", "currency"):
        at = paid_at.astimezone(zone)
        totals[at.year, at.month, currency] += total
        currencies.add(currency)
    rows = []
    for year, month in keys:
        rows.append(
            {
                "month": datetime(year, month, 1, tzinfo=zone),
                "amounts": [
                    (currency, totals.get((year, month, currency), Decimal(0))) for currency in sorted(currencies)
                ],
            }
        )
    return rows


def dashboard(customer, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    lines = fleet_lines(customer)
    soon = list(expiring(customer, now, 7)[:25])
    spend = spend_per_month(customer, now)
    top = max((amount for row in spend for _, amount in row["amounts"]), default=Decimal(0))
    for row in spend:
        row["bars"] = [(currency, amount, int(100 * amount / top) if top else 0) for currency, amount in row["amounts"]]
    return {
        "line_count": lines.count(),
        "by_status": dict(lines.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")),
        "expiring_7": expiring(customer, now, 7).count(),
        "expiring_30": expiring(customer, now, 30).count(),
        "expiring": soon,
        "auto_renew": auto_renew_of(soon),
        "groups": usage_per_group(customer, now),
        "spend": spend,
    }
