"""Reads for the back-office reports: sales, auto-renew, lines, refill PINs and promotions over a
range of days, for one market or all of them. Each report is one or two GROUP BY queries; nothing
loads the rows it counts.

Every report takes ``(date_from, date_to, market)``: the first and last day, both included, and a
market or ``None`` for all of them. Snapshot reports (lines by status, upcoming expiries) are about
now and take the days only to be called like the others.

Days are local days. With a market chosen, its time zone's (a renewal paid at 23:30 in New York is
counted on that New York day). With none, each row is counted on the local day of its own market:
the all-markets figures are the sum of each market's, and markets that share a currency add up per
local day. Refill PINs belong to no market, only to a currency: with a market chosen, the PINs of
its currency on its local days (so another market selling in the same currency is counted too);
with none, UTC days.

Money is never added across currencies: every money row carries its currency.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, DateField, Exists, OuterRef, Q, QuerySet, Sum, When
from django.db.models.expressions import Expression
from django.db.models.functions import TruncDate
from django.utils import timezone, translation

from refill.catalog.models import Market
from refill.domain.lifecycle import LineStatus
from refill.lines.models import Line
from refill.orders.models import Order, OrderItem
from refill.promotions.models import Redemption
from refill.renewals.models import RenewalAttempt
from refill.vouchers.models import Voucher

# How many decline reasons the auto-renew report lists.
TOP_REASONS = 10
# Lines a report counts as due to expire: those still holding their number.
GONE = (LineStatus.AVAILABLE, LineStatus.PORTED_OUT)


def local_day(field: str, market: Market | None, market_path: str | None) -> Expression:
    """The local day of the instant ``field``: in ``market``'s zone; with no market, in the zone of
    the row's own market (reached by ``market_path``), or UTC for rows that have no market."""
    if market is not None:
        return TruncDate(field, tzinfo=market.zone)
    if market_path is None:
        return TruncDate(field, tzinfo=UTC)
    zones = Market.objects.order_by("time_zone").values_list("time_zone", flat=True).distinct()
    return Case(
        *[When(**{f"{market_path}__time_zone": zone}, then=TruncDate(field, tzinfo=ZoneInfo(zone))) for zone in zones],
        default=TruncDate(field, tzinfo=UTC),
        output_field=DateField(),
    )


def _window(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """Instants that may fall on a local day from ``date_from`` to ``date_to`` in some zone (they
    run from UTC−12 to UTC+14): a wide first cut that an index can serve; the local day decides."""
    return (
        datetime.combine(date_from - timedelta(days=1), time.min, tzinfo=UTC),
        datetime.combine(date_to + timedelta(days=2), time.min, tzinfo=UTC),
    )


def _in_days(
    rows: QuerySet, field: str, date_from: date, date_to: date, market: Market | None, market_path: str | None
) -> QuerySet:
    start, end = _window(date_from, date_to)
    return (
        rows.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(day=local_day(field, market, market_path))
        .filter(day__gte=date_from, day__lte=date_to)
    )


def _money(value) -> Decimal:
    return Decimal(value or 0)


# Sales ------------------------------------------------------------------------------------------


def renewals_revenue(date_from: date, date_to: date, market: Market | None = None) -> list[dict]:
    """Per day and currency: paid renewal orders and add-on pass orders (counted on the day they
    were paid), what they brought in (their totals, tax included) and what promotions took off them
    (their discounts). Wallet top-ups are neither. A later refund leaves the order paid: these are
    gross sales. A goodwill extension counts as a renewal that brought in nothing."""
    renewal = Exists(OrderItem.objects.filter(order=OuterRef("pk"), kind=OrderItem.Kind.RENEWAL))
    addon = Exists(OrderItem.objects.filter(order=OuterRef("pk"), kind=OrderItem.Kind.ADDON))
    orders = Order.objects.filter(renewal | addon, status=Order.Status.PAID).annotate(
        is_renewal=renewal, is_addon=addon
    )
    if market is not None:
        orders = orders.filter(market=market)
    rows = (
        _in_days(orders, "paid_at", date_from, date_to, market, "market")
        .values("day", "currency")
        .annotate(
            renewals=Count("pk", filter=Q(is_renewal=True)),
            passes=Count("pk", filter=Q(is_addon=True)),
            revenue=Sum("total"),
            discount=Sum("discount"),
        )
        .order_by("day", "currency")
    )
    return [
        {
            "day": row["day"],
            "currency": row["currency"],
            "renewals": row["renewals"],
            "passes": row["passes"],
            "revenue": _money(row["revenue"]),
            "discount": _money(row["discount"]),
        }
        for row in rows
    ]


# Auto-renew -------------------------------------------------------------------------------------

# Where an attempt ended up; "pending" is an attempt not yet made (due) or being made (running).
OUTCOMES = {
    "succeeded": Q(status=RenewalAttempt.Status.SUCCEEDED),
    "failed": Q(status=RenewalAttempt.Status.FAILED),
    "over_cap": Q(status=RenewalAttempt.Status.OVER_CAP),
    "skipped": Q(status=RenewalAttempt.Status.SKIPPED),
    "pending": Q(status__in=[RenewalAttempt.Status.DUE, RenewalAttempt.Status.RUNNING]),
}


def success_rate(succeeded: int, failed: int) -> Decimal | None:
    """Renewed attempts as a percentage of the attempts that tried to charge (renewed or failed).
    Attempts held back by the customer's cap, not needed, or not yet made do not count; ``None``
    when no attempt tried to charge."""
    tried = succeeded + failed
    return (Decimal(100) * succeeded / tried).quantize(Decimal("0.1")) if tried else None


def _attempts(date_from: date, date_to: date, market: Market | None) -> QuerySet:
    """Attempts on the day they ended, or, not yet ended, on the day they are due."""
    start, end = _window(date_from, date_to)
    attempts = RenewalAttempt.objects.filter(
        Q(finished_at__gte=start, finished_at__lt=end) | Q(finished_at__isnull=True, due_at__gte=start, due_at__lt=end)
    )
    if market is not None:
        attempts = attempts.filter(line__market=market)

    def day(field: str) -> Expression:
        return local_day(field, market, "line__market")

    return attempts.annotate(
        day=Case(
            When(finished_at__isnull=True, then=day("due_at")), default=day("finished_at"), output_field=DateField()
        )
    ).filter(day__gte=date_from, day__lte=date_to)


def autorenew_outcomes(date_from: date, date_to: date, market: Market | None = None) -> list[dict]:
    """Per day: the auto-renew attempts by outcome (``OUTCOMES``) and their success rate
    (``success_rate``). An attempt counts on the day it ended; one not yet made, on its due day."""
    rows = (
        _attempts(date_from, date_to, market)
        .values("day")
        .annotate(**{outcome: Count("pk", filter=condition) for outcome, condition in OUTCOMES.items()})
        .order_by("day")
    )
    return [
        {
            "day": row["day"],
            **{outcome: row[outcome] for outcome in OUTCOMES},
            "attempts": sum(row[outcome] for outcome in OUTCOMES),
            "success_rate": success_rate(row["succeeded"], row["failed"]),
        }
        for row in rows
    ]


def autorenew_declines(date_from: date, date_to: date, market: Market | None = None) -> list[dict]:
    """Why auto-renew attempts failed in the range: the most frequent reasons first (at most
    ``TOP_REASONS``), each with its count. A reason is the bank's decline code (``insufficient_funds``,
    ``expired_card``…) or why no charge could be made (``no_payment_method``, ``too_many_declines``…)."""
    rows = (
        _attempts(date_from, date_to, market)
        .filter(status=RenewalAttempt.Status.FAILED)
        .values("reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "reason")[:TOP_REASONS]
    )
    return [{"reason": row["reason"], "count": row["count"]} for row in rows]


# Lines ------------------------------------------------------------------------------------------

_MARKET_FIELDS = ("market__code", "market__name", "market__name_zh_hans", "market__region")


def _market_name(row: dict) -> str:
    """The market's name as ``Market.display_name`` gives it (a Chinese page says 美国, not
    "United States"), from the values of one grouped row."""
    market = Market(name=row["market__name"], name_zh_hans=row["market__name_zh_hans"], region=row["market__region"])
    return market.display_name


def lines_by_status(
    date_from: date | None = None, date_to: date | None = None, market: Market | None = None
) -> list[dict]:
    """Now, per market: how many lines are in each status (in lifecycle order). The days are not
    used: a line's status is only known as it is now."""
    lines = Line.objects.all()
    if market is not None:
        lines = lines.filter(market=market)
    rows = lines.values(*_MARKET_FIELDS, "status").annotate(count=Count("pk")).order_by()
    order = {status.value: position for position, status in enumerate(LineStatus)}
    return sorted(
        (
            {
                "market": row["market__code"],
                "market_name": _market_name(row),
                "status": row["status"],
                "count": row["count"],
            }
            for row in rows
        ),  # fmt: skip
        key=lambda row: (row["market_name"], row["market"], order.get(row["status"], len(order))),
    )


def upcoming_expiries(
    date_from: date | None = None,
    date_to: date | None = None,
    market: Market | None = None,
    *,
    now: datetime | None = None,
) -> list[dict]:
    """Per market: the lines whose paid period ends in the next 7 days and in the next 30 days from
    ``now`` (the 30 include the 7), and how many of each have auto-renew on. Lines that no longer
    hold their number are left out. The days are not used: this looks ahead from now."""
    now = now or timezone.now()
    week, month = now + timedelta(days=7), now + timedelta(days=30)
    lines = Line.objects.filter(period_end__gt=now, period_end__lte=month).exclude(status__in=GONE)
    if market is not None:
        lines = lines.filter(market=market)
    auto_renew = Q(auto_renew__enabled=True)
    rows = (
        lines.values(*_MARKET_FIELDS)
        .annotate(
            next_7_days=Count("pk", filter=Q(period_end__lte=week)),
            next_7_days_auto_renew=Count("pk", filter=Q(period_end__lte=week) & auto_renew),
            next_30_days=Count("pk"),
            next_30_days_auto_renew=Count("pk", filter=auto_renew),
        )
        .order_by("market__name", "market__code")
    )
    return [
        {
            "market": row["market__code"],
            "market_name": _market_name(row),
            **{
                key: row[key]
                for key in ("next_7_days", "next_7_days_auto_renew", "next_30_days", "next_30_days_auto_renew")
            },
        }
        for row in rows
    ]


# Refill PINs ------------------------------------------------------------------------------------


def vouchers_issued_redeemed(date_from: date, date_to: date, market: Market | None = None) -> list[dict]:
    """Per day and currency: refill PINs issued (generated or imported, on the day of their batch,
    whatever became of them since) and their face value, against PINs redeemed (on the day they
    were redeemed, whenever they were issued) and their face value."""
    vouchers = Voucher.objects.all()
    if market is not None:
        vouchers = vouchers.filter(currency=market.currency)
    issued = (
        _in_days(vouchers, "batch__created_at", date_from, date_to, market, None)
        .values("day", "currency")
        .annotate(count=Count("pk"), value=Sum("face_value"))
        .order_by()
    )
    redeemed = (
        _in_days(vouchers.filter(state=Voucher.State.REDEEMED), "redeemed_at", date_from, date_to, market, None)
        .values("day", "currency")
        .annotate(count=Count("pk"), value=Sum("face_value"))
        .order_by()
    )
    rows: dict[tuple[date, str], dict] = {}
    for prefix, found in (("issued", issued), ("redeemed", redeemed)):
        for row in found:
            key = (row["day"], row["currency"])
            merged = rows.setdefault(
                key,
                {"day": key[0], "currency": key[1], "issued": 0, "issued_value": Decimal(0), "redeemed": 0,
                 "redeemed_value": Decimal(0)},
            )  # fmt: skip
            merged[prefix] = row["count"]
            merged[f"{prefix}_value"] = _money(row["value"])
    return [rows[key] for key in sorted(rows)]


# Promotions -------------------------------------------------------------------------------------


def promotion_costs(date_from: date, date_to: date, market: Market | None = None) -> list[dict]:
    """Per promotion: its redemptions made final in the range (their orders were paid on those
    days), what they took off the orders and what they cost (the discount and the value of what
    they gave free; the same cost the ledger books as promotion cost). Most costly first within
    each currency."""
    redemptions = Redemption.objects.filter(status=Redemption.Status.REDEEMED)
    if market is not None:
        redemptions = redemptions.filter(promotion__market=market)
    rows = (
        _in_days(redemptions, "settled_at", date_from, date_to, market, "promotion__market")
        .values(
            "promotion_id",
            "promotion__name_en",
            "promotion__name_zh_hans",
            "promotion__code",
            "promotion__market__code",
            "order__currency",
        )
        .annotate(redemptions=Count("pk"), discount=Sum("discount"), cost=Sum("cost"))
        .order_by("order__currency", "-cost", "promotion_id")
    )
    chinese = translation.get_language() == "zh-hans"
    return [
        {
            "promotion": row["promotion_id"],
            "name": row["promotion__name_zh_hans"] if chinese else row["promotion__name_en"],
            "code": row["promotion__code"],
            "market": row["promotion__market__code"],
            "currency": row["order__currency"],
            "redemptions": row["redemptions"],
            "discount": _money(row["discount"]),
            "cost": _money(row["cost"]),
        }
        for row in rows
    ]
