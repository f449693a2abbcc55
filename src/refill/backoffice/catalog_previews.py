"""What a change to the catalog would do to the lines, orders and notices that exist, shown to staff
on the catalog pages before they save it (``catalog_views``). They only read. The question spans
sales (lines, periods, orders awaiting payment, waiting SMS), so it is the back office's, not the
catalog's: reference data knows nothing of sales."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from refill.catalog.models import Market, Plan, PlanPrice
from refill.domain.lifecycle import TERMINAL, LineStatus
from refill.domain.money import Money
from refill.domain.pricing import Quote, price_item, quote
from refill.lines.models import STATUS_LABELS, Line
from refill.lines.services import TIMED_TRANSITIONS
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.subscriptions.models import Period

# Lines that count a period towards reminders and auto-renew (as the sweeps do).
RUNNING = (LineStatus.ACTIVE, LineStatus.RETAINED)
# Lines auto-renew still tries (refill.renewals.autorenew_due.RENEWS).
AUTO_RENEWED = (LineStatus.ACTIVE, LineStatus.RETAINED, LineStatus.GRACE)


def _quote(amount: Decimal, currency: str, *, tax_rate: Decimal, tax_inclusive: bool) -> Quote:
    """One period at ``amount``, as a renewal order would be quoted."""
    item = price_item(Money(amount, currency), 1)
    return quote([item], tax_rate=tax_rate, tax_inclusive=tax_inclusive, currency=currency)


def _live_lines(market: Market):
    return Line.objects.filter(market=market).exclude(status__in=list(TERMINAL))


# A new price --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricePreview:
    currency: str
    valid_from: datetime
    old: PlanPrice | None  # the version that would be in force at valid_from without the change
    amount: Decimal
    old_total: Decimal | None  # one period, tax as the market applies it
    new_total: Decimal
    lines: int  # lines on the plan (any state that still holds the number)
    auto_renew: int  # of which auto-renew is on and still tried
    charged_new: int  # auto-renewed next after valid_from: charged the new price
    charged_old_once_more: int  # auto-renewed before valid_from: once more at the old price
    over_cap: int  # auto-renew lines whose cap per renewal is below the new total
    paid_ahead_lines: int  # lines with periods paid that have not started: those keep their price
    paid_ahead_periods: int


def price_preview(*, plan: Plan, amount: Decimal, valid_from: datetime, now: datetime | None = None) -> PricePreview:
    """What a new price ``amount`` from ``valid_from`` means for the lines on ``plan``. Auto-renew
    charges a line ``auto_renew_lead_hours`` before its paid time ends (a lapsed line in grace at
    its next retry, from now on): the price in force then is the one it pays."""
    now = now or timezone.now()
    market = plan.market
    currency = market.currency
    tax = {"tax_rate": market.tax_rate, "tax_inclusive": market.tax_inclusive}
    old = plan.current_price(currency, max(valid_from, now))
    lines = _live_lines(market).filter(plan=plan)
    renewed = lines.filter(auto_renew__enabled=True, status__in=list(AUTO_RENEWED))
    lead = timedelta(hours=market.auto_renew_lead_hours)
    if valid_from <= now:
        charged_new = renewed.count()
    else:
        charged_new = renewed.filter(period_end__gte=valid_from + lead).count()
    auto_renew = renewed.count()
    new_total = _quote(amount, currency, **tax).total.amount
    ahead = Period.objects.filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now), line__in=lines, plan=plan, start__gt=now
    )
    ahead_counts = ahead.aggregate(periods=Count("pk"), lines=Count("line", distinct=True))
    return PricePreview(
        currency=currency,
        valid_from=max(valid_from, now),
        old=old,
        amount=amount,
        old_total=_quote(old.amount, currency, **tax).total.amount if old is not None else None,
        new_total=new_total,
        lines=lines.count(),
        auto_renew=auto_renew,
        charged_new=charged_new,
        charged_old_once_more=auto_renew - charged_new,
        over_cap=renewed.filter(auto_renew__cap_per_renewal__lt=new_total).count(),
        paid_ahead_lines=ahead_counts["lines"],
        paid_ahead_periods=ahead_counts["periods"],
    )


# A plan's settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPreview:
    changed: list[str]
    lines: int
    auto_renew: int
    # Switched off: auto-renew lines that can no longer renew it, and those of them that fall back
    # to the "keep my number" plan.
    cannot_renew: int | None = None
    retention_fallback: int | None = None
    # Fewer periods may be prepaid: lines already paid further ahead (they keep what they paid).
    beyond_max_prepaid: int | None = None
    # New allowances apply to renewals paid from now on; periods already paid keep theirs.
    paid_ahead_periods: int | None = None
    # A new rollover rule is applied at each line's next renewal, to its last period's allowance:
    # lines with paid time left on this plan.
    rollover_lines: int | None = None


def plan_preview(*, plan: Plan, proposed: Plan, changed: list[str], now: datetime | None = None) -> PlanPreview:
    now = now or timezone.now()
    lines = _live_lines(plan.market).filter(plan=plan)
    renewed = lines.filter(auto_renew__enabled=True, status__in=list(AUTO_RENEWED))
    paid = Period.objects.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now), line__in=lines, plan=plan)
    extra: dict = {}
    if "is_active" in changed and not proposed.is_active:
        extra["cannot_renew"] = renewed.count()
        extra["retention_fallback"] = renewed.filter(
            auto_renew__retention_fallback=True, plan__retention_plan__isnull=False
        ).count()
    if "max_prepaid_periods" in changed and proposed.max_prepaid_periods < plan.max_prepaid_periods:
        extra["beyond_max_prepaid"] = (
            paid.filter(end__gt=now)
            .order_by()
            .values("line_id")
            .annotate(count=Count("pk"))
            .filter(count__gt=proposed.max_prepaid_periods)
            .count()
        )
    if {"data_mb", "voice_minutes", "sms"} & set(changed):
        extra["paid_ahead_periods"] = paid.filter(start__gt=now).count()
    if "rollover" in changed:
        extra["rollover_lines"] = paid.filter(end__gt=now).values("line_id").distinct().count()
    return PlanPreview(changed=changed, lines=lines.count(), auto_renew=renewed.count(), **extra)


# A market's settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerShift:
    """Lines now in ``status`` and when they would move on to ``target``."""

    status: LineStatus
    target: LineStatus
    old_days: int  # days after the period end, as the lapse sweep counts them
    new_days: int
    lines: int
    due_now: int  # not due under the current timers, due under the new: moved at the next sweep

    @property
    def shift_days(self) -> int:
        return self.new_days - self.old_days

    @property
    def later(self) -> bool:
        return self.new_days > self.old_days

    @property
    def by_days(self) -> int:
        return abs(self.shift_days)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def target_label(self) -> str:
        return str(STATUS_LABELS[self.target])


@dataclass(frozen=True)
class TaxExample:
    plan: Plan
    price: PlanPrice
    before: Quote
    after: Quote


@dataclass(frozen=True)
class MarketPreview:
    changed: list[str]
    timers: list[TimerShift] = field(default_factory=list)
    unpaid_orders: int | None = None  # tax changed: orders awaiting payment keep the tax quoted
    tax_examples: list[TaxExample] = field(default_factory=list)
    # Reminder days changed: lines whose period ends within the widest window, now and after.
    reminder_window_days: tuple[int, int] | None = None
    reminder_lines: tuple[int, int] | None = None
    # Quiet hours changed: SMS already waiting keep the time they were given.
    sms_waiting: int | None = None
    # Auto-renew lead changed: auto-renew lines whose paid time ends within it, now and after.
    lead_lines: tuple[int, int] | None = None


def _timer_shifts(market: Market, proposed: Market, now: datetime) -> list[TimerShift]:
    """For each state a timer moves a line out of: how many lines are in it, how much later or
    earlier they would move on, and how many would move at the next sweep. The deadlines are the
    lapse sweep's own: the period end plus the sum of the market's timers named by
    ``refill.lines.services.TIMED_TRANSITIONS``."""
    shifts = []
    for source, target, _cause, timers in TIMED_TRANSITIONS:
        old_days = sum(getattr(market, timer) for timer in timers)
        new_days = sum(getattr(proposed, timer) for timer in timers)
        if old_days == new_days:
            continue
        waiting = _live_lines(market).filter(status=source)
        due_now = (
            waiting.filter(
                period_end__lte=now - timedelta(days=new_days), period_end__gt=now - timedelta(days=old_days)
            )
            if new_days < old_days
            else waiting.none()
        )
        shifts.append(
            TimerShift(
                status=source,
                target=target,
                old_days=old_days,
                new_days=new_days,
                lines=waiting.count(),
                due_now=due_now.count(),
            )
        )
    return shifts


def _ending_within(market: Market, reach: timedelta, now: datetime, **filters) -> int:
    return (
        _live_lines(market)
        .filter(status__in=list(RUNNING), period_end__gt=now, period_end__lte=now + reach, **filters)
        .count()
    )


def market_settings_preview(
    *, market: Market, proposed: Market, changed: list[str], now: datetime | None = None
) -> MarketPreview:
    """What saving ``proposed`` (from ``services.market_settings_proposed``) over ``market`` would do
    to the market's lines, orders and notices; only the parts a changed setting touches."""
    now = now or timezone.now()
    preview: dict = {"changed": changed, "timers": _timer_shifts(market, proposed, now)}
    if {"tax_rate", "tax_inclusive"} & set(changed):
        preview["unpaid_orders"] = Order.objects.filter(
            market=market, status=Order.Status.AWAITING_PAYMENT, currency=market.currency
        ).count()
        examples = []
        for plan in market.plans.filter(is_active=True).order_by("kind", "sort_order", "code"):
            price = plan.current_price(market.currency, now)
            if price is None:
                continue
            before = _quote(price.amount, price.currency, tax_rate=market.tax_rate, tax_inclusive=market.tax_inclusive)
            after = _quote(
                price.amount, price.currency, tax_rate=proposed.tax_rate, tax_inclusive=proposed.tax_inclusive
            )
            examples.append(TaxExample(plan, price, before, after))
        preview["tax_examples"] = examples
    if "reminder_days" in changed:
        old, new = max(market.reminder_days, default=0), max(proposed.reminder_days, default=0)
        preview["reminder_window_days"] = (old, new)
        preview["reminder_lines"] = (
            _ending_within(market, timedelta(days=old), now),
            _ending_within(market, timedelta(days=new), now),
        )
    if {"quiet_start_hour", "quiet_end_hour"} & set(changed):
        preview["sms_waiting"] = Notification.objects.filter(
            channel="sms", status=Notification.Status.PENDING, send_after__gt=now, line__market=market
        ).count()
    if "auto_renew_lead_hours" in changed:
        renewed = {"auto_renew__enabled": True}
        preview["lead_lines"] = (
            _ending_within(market, timedelta(hours=market.auto_renew_lead_hours), now, **renewed),
            _ending_within(market, timedelta(hours=proposed.auto_renew_lead_hours), now, **renewed),
        )
    return MarketPreview(**preview)
