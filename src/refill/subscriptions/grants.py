"""What an order grants a line: the buckets of each period bought, rollover (rule 6) across the new
periods and the stored ones, and a promotion's bonus and free add-on buckets. Unsaved objects:
the caller (orders.fulfilment) writes them in its transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Max, Min

from refill.catalog.models import Plan
from refill.domain.allowances import rolled_over_until
from refill.domain.lifecycle import LineStatus
from refill.domain.periods import plan_periods
from refill.lines.models import Line
from refill.ops.bulk import unsaved
from refill.subscriptions.models import Bucket, Period
from refill.subscriptions.selectors import live_at

if TYPE_CHECKING:  # the caller's orders, by pk: subscriptions do not import orders
    from refill.orders.models import Order, OrderItem


def period_grant(
    line: Line, plan: Plan, period: Period, granted: dict[tuple[int, datetime], list[Bucket]]
) -> list[Bucket]:
    """The period's buckets (unsaved), also filed in ``granted`` by (line, expiry). Rule 6: under
    a plan whose rule is "roll over once", the previous period's unused allowance lives on through
    the next period, and only that one; when that previous period was granted in this same batch
    (several periods bought at once) its buckets are extended here, before anything is written."""
    for bucket in granted.pop((line.pk, period.start), []):
        rule, rolled = bucket.period.plan.rollover, bucket.rolled_over
        until = rolled_over_until(rule, rolled, bucket.expires_at, next_start=period.start, next_end=period.end)
        if until is not None:
            bucket.expires_at, bucket.rolled_over = until, True
    new = buckets_unsaved(
        line, period, plan_allowances(plan), valid_from=period.start, expires_at=period.end, source=Bucket.Source.PERIOD
    )
    granted.setdefault((line.pk, period.end), []).extend(new)
    return new


def plan_allowances(plan: Plan) -> tuple[tuple[str, int | None], ...]:
    return ((Bucket.Kind.DATA, plan.data_mb), (Bucket.Kind.VOICE, plan.voice_minutes), (Bucket.Kind.SMS, plan.sms))


def buckets_unsaved(line: Line, period: Period, allowances, *, valid_from, expires_at, source: str) -> list[Bucket]:
    """Unsaved buckets for ``allowances`` ((kind, amount) pairs: None is unlimited, 0 is none)."""
    return [
        unsaved(
            Bucket,
            line=line,
            period=period,
            kind=kind,
            granted=amount or 0,
            unlimited=amount is None,
            valid_from=valid_from,
            expires_at=expires_at,
            source=source,
        )
        for kind, amount in allowances
        if amount != 0
    ]


def roll_over_stored(first_new: dict[int, Period]) -> None:
    """Rule 6 for buckets already stored: each line's last period before the new ones, if its plan
    rolls over once, lives on through the first new period."""
    if not first_new:
        return
    candidates = Bucket.objects.filter(
        line_id__in=list(first_new),
        source=Bucket.Source.PERIOD,
        period__end__in={period.start for period in first_new.values()},
        period__revoked_at__isnull=True,
    ).values_list("pk", "line_id", "period__plan__rollover", "rolled_over", "expires_at")
    by_expiry: dict[datetime, list[int]] = {}
    for pk, line_id, rule, rolled_over, expires_at in candidates:
        new = first_new[line_id]
        until = rolled_over_until(rule, rolled_over, expires_at, next_start=new.start, next_end=new.end)
        if until is not None:
            by_expiry.setdefault(until, []).append(pk)
    for expires_at, pks in by_expiry.items():
        Bucket.objects.filter(pk__in=pks).update(expires_at=expires_at, rolled_over=True)


def promotion_buckets(
    redeemed: list, order_periods: dict[int, list[Period]], lines: dict[int, Line], orders: dict[int, Order], now
) -> list[Bucket]:
    """What paid orders' promotions give besides the discount and the free periods (unsaved): bonus
    allowances for as long as the periods bought, and free add-ons from now for their own validity.
    They hang on the order's first period, so a refund that revokes it revokes them too."""
    new = []
    for redemption in redeemed:
        periods = order_periods[redemption.order_id]
        line = lines[orders[redemption.order_id].line_id]
        first, last = periods[0], periods[-1]
        bonus = (
            (Bucket.Kind.DATA, redemption.bonus_data_mb),
            (Bucket.Kind.VOICE, redemption.bonus_voice_minutes),
            (Bucket.Kind.SMS, redemption.bonus_sms),
        )
        new += buckets_unsaved(
            line, first, bonus, valid_from=first.start, expires_at=last.end, source=Bucket.Source.PROMOTION
        )
        addon = redemption.addon_plan
        if addon is not None:
            span = plan_periods(
                current_end=None,
                now=now,
                lapsed=True,
                validity=addon.validity,
                count=1,
                zone=line.market.zone,
                anchor_day=None,
            )[0]
            new += buckets_unsaved(
                line,
                first,
                plan_allowances(addon),
                valid_from=span.start,
                expires_at=span.end,
                source=Bucket.Source.ADDON,
            )
    return new


# A pass attaches to a running period: only lines in service (or kept on a retention plan) have one.
ADDON_LINE_STATUSES = (LineStatus.ACTIVE, LineStatus.RETAINED)


def periods_running(line_ids, now: datetime) -> dict[int, Period]:
    """Each line's period running at ``now`` (lines without one are left out), in one query."""
    running = Period.objects.filter(live_at(now), line_id__in=list(line_ids), start__lte=now, end__gt=now)
    return {period.line_id: period for period in running.order_by("start")}


def addon_line_running(line: Line, period: Period | None, now: datetime) -> bool:
    """Whether an add-on may be sold for ``line`` now: in service, with ``period`` running."""
    return (
        LineStatus(line.status) in ADDON_LINE_STATUSES
        and line.period_end is not None
        and line.period_end > now
        and period is not None
    )


def addon_until(line: Line, plan: Plan, period: Period, now: datetime) -> datetime:
    """When a pass bought now ends: its own validity (counted in the market's time zone, from
    now), but never after the running period (rule 5: it expires with the period)."""
    span = plan_periods(current_end=None, now=now, lapsed=True, validity=plan.validity, count=1, zone=line.market.zone)[
        0
    ]
    return min(span.end, period.end)


def addon_cut_at(line: Line, plan: Plan, period: Period, now: datetime) -> datetime | None:
    """The running period's end when it cuts a pass bought now short of its own validity (the
    offer then says "until <day>", not "30 days"); None when the pass runs its full length."""
    until = addon_until(line, plan, period, now)
    return until if until == period.end and until < _addon_own_end(line, plan, now) else None


def _addon_own_end(line: Line, plan: Plan, now: datetime) -> datetime:
    return plan_periods(current_end=None, now=now, lapsed=True, validity=plan.validity, count=1, zone=line.market.zone)[
        0
    ].end


def addon_pass_buckets(line: Line, period: Period, item: OrderItem, now: datetime) -> list[Bucket]:
    """The buckets an add-on pass grants (unsaved): its allowances from now until the line's
    running ``period`` ends (or the pass's validity, if sooner), hung on that period so that
    anything ending the period ends the pass too."""
    until = addon_until(line, item.plan, period, now)
    return [
        unsaved(
            Bucket,
            line=line,
            period=period,
            order_item=item,
            kind=kind,
            granted=amount or 0,
            unlimited=amount is None,
            valid_from=now,
            expires_at=until,
            source=Bucket.Source.ADDON,
        )
        for kind, amount in plan_allowances(item.plan)
        if amount != 0
    ]


def addon_validity(item: OrderItem) -> tuple[datetime | None, datetime | None]:
    """When a paid add-on item's pass starts and ends (as granted), for receipts and emails;
    (None, None) for an item that granted nothing (yet)."""
    span = Bucket.objects.filter(order_item=item).aggregate(start=Min("valid_from"), end=Max("expires_at"))
    return span["start"], span["end"]
