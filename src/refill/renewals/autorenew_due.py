"""Which claimed auto-renew attempts go on to be paid (steps 1 and 2 of a batch): read the lines'
settings, prices and this month's spending in a few statements; skip what needs no renewal, fail
what cannot be quoted, and hold back what a spending cap refuses (the customer is told)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from refill.catalog.models import Market, Plan
from refill.domain.autorenew import cap_refusal, month_window
from refill.domain.lifecycle import LineStatus
from refill.errors import RefillError
from refill.lines.models import Line
from refill.orders.models import Order
from refill.orders.pricing import price_lookup, renewal_quote_lookup
from refill.payments.models import Payment, PaymentMethod
from refill.subscriptions.selectors import periods_ahead_of

from .autorenew_outcomes import (
    attempt_failed,
    attempt_finish,
    attempt_notify,
    attempt_schedule_next,
    attempts_finish,
    grace_end,
)
from .models import AutoRenew, RenewalAttempt

# Lines the engine renews: running, kept, or lapsed but still in grace.
RENEWS = [LineStatus.ACTIVE, LineStatus.RETAINED, LineStatus.GRACE]


@dataclass
class Job:
    """One attempt on its way through a batch."""

    attempt: RenewalAttempt
    settings: AutoRenew
    plan: Plan | None = None
    order: Order | None = None
    methods: list[PaymentMethod] = field(default_factory=list)
    payment: Payment | None = None
    refusal: str = "no_payment_method"
    done: bool = False


def attempts_with_lines(attempts) -> list[RenewalAttempt]:
    """Attempts with their lines and owners; the few markets and plans they share are read once
    and shared, not once per attempt."""
    attempts = list(attempts.select_related("line", "line__owner"))
    markets = Market.objects.in_bulk({attempt.line.market_id for attempt in attempts})
    plans = Plan.objects.in_bulk(
        {attempt.line.plan_id for attempt in attempts}
        | {attempt.line.next_plan_id for attempt in attempts if attempt.line.next_plan_id}
        | {attempt.plan_id for attempt in attempts if attempt.plan_id}
    )
    for attempt in attempts:
        attempt.line.market = markets[attempt.line.market_id]
        attempt.line.plan = plans[attempt.line.plan_id]
        if attempt.line.next_plan_id:
            attempt.line.next_plan = plans[attempt.line.next_plan_id]
        if attempt.plan_id:
            attempt.plan = plans[attempt.plan_id]
    return attempts


def jobs_choose(attempts: list[RenewalAttempt], now: datetime) -> list[Job]:
    """Steps 1 and 2: the attempts that go on to be paid, the others settled here."""
    lines = [attempt.line for attempt in attempts]
    stored = {row.line_id: row for row in AutoRenew.objects.filter(line__in=lines)}
    ahead = periods_ahead_of([line.pk for line in lines], now)
    price_of = price_lookup(now)
    capped = [line for line in lines if stored.get(line.pk) and stored[line.pk].cap_per_month is not None]
    spent = _spent_this_month(capped, now)
    skipped: dict[str, list[int]] = {}
    jobs = []
    for attempt in attempts:
        line = attempt.line
        settings = stored.get(line.pk) or AutoRenew(line=line)
        if not settings.enabled:
            skipped.setdefault("disabled", []).append(attempt.pk)
            continue
        if line.period_end != attempt.cycle_end:
            skipped.setdefault("already_renewed", []).append(attempt.pk)
            continue
        if line.status not in RENEWS or now >= grace_end(line, attempt.cycle_end):
            skipped.setdefault("not_renewable", []).append(attempt.pk)
            continue
        plan = attempt.plan or line.renewal_plan
        try:
            quote = renewal_quote_lookup(
                line,
                plan,
                1,
                now,
                lambda: price_of(plan, line.market.currency),  # noqa: B023 - called at once
                lambda: ahead.get(line.pk, 0),  # noqa: B023
            )
        except RefillError as exc:
            attempt_failed(attempt, exc.code, now)
            continue
        refusal = cap_refusal(
            price=quote.quote.total.amount,
            cap_per_renewal=settings.cap_per_renewal,
            cap_per_month=settings.cap_per_month,
            spent_this_month=spent.get(line.pk, Decimal(0)),
        )
        if refusal is not None:
            with transaction.atomic():
                if attempt_finish(attempt, RenewalAttempt.Status.OVER_CAP, refusal, now):
                    attempt_schedule_next(attempt, now)
                    context = {"price": quote.quote.total, "reason": refusal, "settings": settings}
                    attempt_notify(attempt, "autorenew_over_cap", context)
            continue
        jobs.append(Job(attempt=attempt, settings=settings, plan=plan))
    for reason, ids in skipped.items():
        attempts_finish(ids, RenewalAttempt.Status.SKIPPED, reason, now)
    return jobs


def _spent_this_month(lines: list[Line], now: datetime) -> dict[int, Decimal]:
    """What each line's auto-renewals were paid this calendar month (in its market's time zone)."""
    spent: dict[int, Decimal] = {}
    windows: dict[str, tuple[datetime, datetime]] = {}
    for line in lines:
        windows.setdefault(line.market.time_zone, month_window(now, line.market.zone))
    for zone, (start, end) in windows.items():
        rows = (
            Order.objects.filter(
                line__in=[line for line in lines if line.market.time_zone == zone],
                status=Order.Status.PAID,
                idempotency_key__startswith="auto:",
                created_at__gte=start,
                created_at__lt=end,
            )
            .order_by()
            .values("line_id")
            .annotate(total=Sum("total"))
            .values_list("line_id", "total")
        )
        spent.update(rows)
    return spent
