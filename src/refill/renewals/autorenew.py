"""The auto-renew engine: schedules an attempt ``auto_renew_lead`` before each period of an opted-in
line ends, runs due attempts (wallet first, then the default and the backup saved method, charged
off session), retries failures on domain.md's schedule until the grace period ends, respects the
spending caps, and tells the customer what happened each time.

Every step is safe to run twice, late, or on several workers at once: attempts are unique per
(line, period end, number); a due attempt is claimed by one conditional update; each attempt pays
its own order under its own idempotency key; and the next attempt is only scheduled once the
previous one is settled, so one period can never be paid twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from refill.domain.autorenew import cap_refusal, month_window, next_attempt_at
from refill.domain.lifecycle import LineStatus
from refill.errors import RefillError
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.orders.models import Order
from refill.payments.models import Payment, PaymentMethod

from .errors import autorenew_reason
from .models import AutoRenew, RenewalAttempt

logger = logging.getLogger(__name__)

# Lines the engine renews: running, kept, or lapsed but still in grace.
RENEWS = [LineStatus.ACTIVE, LineStatus.RETAINED, LineStatus.GRACE]


# An attempt running this long was left by a dead worker: settle it from what its order shows.
def _stuck_after() -> timedelta:
    from django.conf import settings

    return timedelta(seconds=settings.REFILL_AUTORENEW_STUCK_AFTER)


def autorenew_settings(line: Line) -> AutoRenew:
    """The line's settings; a line never set up gets the defaults (off), without writing a row."""
    return AutoRenew.objects.filter(line=line).first() or AutoRenew(line=line)


def autorenew_update(*, line: Line, actor, **changes) -> AutoRenew:
    """Change a line's auto-renew settings (portal, API, agent desk); audited with who did it."""
    from refill.audit.services import audit_record

    unknown = set(changes) - set(AutoRenew.SETTINGS)
    if unknown:
        raise ValueError(f"not auto-renew settings: {sorted(unknown)}")
    with transaction.atomic():
        settings, _ = AutoRenew.objects.select_for_update().get_or_create(line=line)
        for name, value in changes.items():
            setattr(settings, name, value)
        settings.updated_at = timezone.now()
        settings.full_clean(exclude=["line"])
        settings.save()
        audit_record(
            actor=actor,
            action="autorenew.update",
            obj=line,
            data={name: str(value) for name, value in changes.items()},
        )
    return settings


def _grace_end(line: Line, cycle_end: datetime) -> datetime:
    return cycle_end + timedelta(days=line.market.grace_days)


# Scheduling ----------------------------------------------------------------------------------


def autorenew_schedule(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Owe a first attempt to every opted-in line whose period ends within its market's lead and
    has none for that end yet (also a lapsed line still in grace whose owner just opted in)."""
    from refill.catalog.models import Market

    now = now or timezone.now()
    created = 0
    for market in Market.objects.all():
        lead = timedelta(hours=market.auto_renew_lead_hours)
        lines = (
            Line.objects.filter(
                market=market,
                auto_renew__enabled=True,
                status__in=RENEWS,
                period_end__lte=now + lead,
                period_end__gt=now - timedelta(days=market.grace_days),
            )
            .exclude(Exists(RenewalAttempt.objects.filter(line=OuterRef("pk"), cycle_end=OuterRef("period_end"))))
            .values_list("pk", "period_end")[:batch]
        )
        attempts = [RenewalAttempt(line_id=pk, cycle_end=end, number=1, due_at=end - lead) for pk, end in lines]
        # A racing sweep inserting the same (line, end, 1) is ignored by the unique constraint.
        RenewalAttempt.objects.bulk_create(attempts, ignore_conflicts=True)
        created += len(attempts)
    return created


# Running -------------------------------------------------------------------------------------


def _threads() -> int:
    from django.conf import settings
    from django.db import connection

    if settings.REFILL_AUTORENEW_THREADS:
        return settings.REFILL_AUTORENEW_THREADS
    # SQLite takes one writer at a time: threads would only queue on its lock.
    return 1 if connection.vendor == "sqlite" else 8


def autorenew_run_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Run due attempts. Each is claimed by one conditional update, so concurrent workers split
    them; within a worker several run at once (on PostgreSQL) so that their provider calls overlap,
    each call going through the provider's limiter. Returns how many this call ran."""
    now = now or timezone.now()
    ids = list(
        RenewalAttempt.objects.filter(status=RenewalAttempt.Status.DUE, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    threads = min(_threads(), len(ids))
    if threads <= 1:
        return sum(_claim_and_run(pk, now) for pk in ids)
    queue, lock, ran = list(reversed(ids)), threading.Lock(), [0]

    def work() -> None:
        from django.db import connection

        try:
            while True:
                with lock:
                    if not queue:
                        return
                    pk = queue.pop()
                done = _claim_and_run(pk, now)
                with lock:
                    ran[0] += done
        finally:
            connection.close()  # this thread's own connection

    pool = [threading.Thread(target=work, name=f"autorenew-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return ran[0]


def _claim_and_run(pk: int, now: datetime) -> int:
    claimed = RenewalAttempt.objects.filter(pk=pk, status=RenewalAttempt.Status.DUE).update(
        status=RenewalAttempt.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return 0  # another worker took it
    attempt = RenewalAttempt.objects.select_related("line", "line__market", "line__plan", "line__owner").get(pk=pk)
    try:
        autorenew_attempt_run(attempt, now=now)
    except Exception:
        # Left running: autorenew_settle_stuck decides from its order once it is old enough.
        logger.exception("auto-renew attempt %s failed unexpectedly", pk)
    return 1


def _finish(attempt: RenewalAttempt, status: str, reason: str = "", now: datetime | None = None) -> bool:
    """Settle a running attempt once; False if someone else already did."""
    return bool(
        RenewalAttempt.objects.filter(pk=attempt.pk, status=RenewalAttempt.Status.RUNNING).update(
            status=status, reason=reason[:40], finished_at=now or timezone.now()
        )
    )


def _spent_this_month(line: Line, now: datetime) -> Decimal:
    start, end = month_window(now, line.market.zone)
    total = Order.objects.filter(
        line=line,
        status=Order.Status.PAID,
        idempotency_key__startswith=f"auto:{line.pk}:",
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(total=Sum("total"))["total"]
    return total or Decimal(0)


def autorenew_attempt_run(attempt: RenewalAttempt, *, now: datetime | None = None) -> RenewalAttempt:
    from refill.renewals.services import order_create_renewal, renewal_quote

    now = now or timezone.now()
    line = attempt.line
    settings = autorenew_settings(line)
    if not settings.enabled:
        _finish(attempt, RenewalAttempt.Status.SKIPPED, "disabled", now)
        return attempt
    if line.period_end != attempt.cycle_end:
        _finish(attempt, RenewalAttempt.Status.SKIPPED, "already_renewed", now)
        return attempt
    if line.status not in RENEWS or now >= _grace_end(line, attempt.cycle_end):
        _finish(attempt, RenewalAttempt.Status.SKIPPED, "not_renewable", now)
        return attempt
    plan = attempt.plan or line.plan
    try:
        quote = renewal_quote(line=line, plan=plan, periods=1, now=now)
    except RefillError as exc:
        return _failed(attempt, exc.code, now)
    price = quote.quote.total.amount
    refusal = cap_refusal(
        price=price,
        cap_per_renewal=settings.cap_per_renewal,
        cap_per_month=settings.cap_per_month,
        spent_this_month=_spent_this_month(line, now),
    )
    if refusal is not None:
        with transaction.atomic():
            if _finish(attempt, RenewalAttempt.Status.OVER_CAP, refusal, now):
                _schedule_next(attempt, now)
                context = {"price": quote.quote.total, "reason": refusal, "settings": settings}
                _notify(attempt, "autorenew_over_cap", context)
        return attempt
    try:
        order = order_create_renewal(
            customer=line.owner,
            line=line,
            plan=plan,
            periods=1,
            idempotency_key=f"auto:{line.pk}:{attempt.cycle_end:%Y%m%d%H%M%S}:{attempt.number}",
            language=line.owner.preferred_language,
            now=now,
        )
    except RefillError as exc:
        return _failed(attempt, exc.code, now)
    RenewalAttempt.objects.filter(pk=attempt.pk).update(order=order, plan=plan)
    attempt.order, attempt.plan = order, plan
    payment, refusal = _pay(order, settings, now)
    return _settle(attempt, payment, now, refusal=refusal)


def _pay(order: Order, settings: AutoRenew, now: datetime) -> tuple[Payment | None, str]:
    """Wallet first (all of it if it covers the price, else its share with a card), then the
    default and the backup saved method, off session. Stops at the first payment that succeeded or
    is still open (a lost answer is never followed by another charge). Returns the last payment and,
    when Refill refused to charge at all (too many declines, say), why."""
    from refill.integrations.payments.base import PaymentToken, get_gateway
    from refill.integrations.payments.limits import Limited
    from refill.renewals.services import order_pay_card, order_pay_wallet, wallet_share

    customer = order.customer
    if settings.use_wallet and wallet_balance(customer, order.currency) >= order.total:
        try:
            return order_pay_wallet(order=order, now=now), ""
        except RefillError:
            pass  # spent meanwhile: go on with the cards
    roles = []
    if settings.use_default_method:
        roles.append(Q(is_default=True))
    if settings.use_backup_method:
        roles.append(Q(is_backup=True))
    payment, refusal = None, "no_payment_method"
    for role in roles:
        method = PaymentMethod.objects.filter(role, customer=customer, removed_at__isnull=True).first()
        if method is None:
            continue
        token = PaymentToken(method.token, method.brand, method.last4, method.exp_month or 0, method.exp_year or 0)
        try:
            payment = order_pay_card(
                order=order,
                token=token,
                gateway=Limited(get_gateway(method.gateway)),
                wallet_amount=wallet_share(order) if settings.use_wallet else Decimal(0),
                now=now,
                customer_reference=method.provider_customer,
                off_session=True,
            )
        except RefillError as exc:
            logger.info("auto-renew of order %s with method %s refused: %s", order.pk, method.pk, exc.code)
            refusal = exc.code
            continue
        if payment is None or payment.status != Payment.Status.FAILED:
            return payment, ""
    return payment, refusal


def _settle(
    attempt: RenewalAttempt, payment: Payment | None, now: datetime, *, refusal: str = "no_payment_method"
) -> RenewalAttempt:
    order = Order.objects.get(pk=attempt.order_id)
    if order.status == Order.Status.PAID:
        with transaction.atomic():
            if _finish(attempt, RenewalAttempt.Status.SUCCEEDED, "", now):
                # The confirmation email goes with every paid order; this adds the SMS.
                _notify(attempt, "autorenew_succeeded", {"order": order}, channels=("sms",))
        return attempt
    if order.payments.filter(status__in=[Payment.Status.PENDING, Payment.Status.UNKNOWN]).exists():
        return attempt  # left running until reconciliation settles the charge (autorenew_settle_stuck)
    if order.payments.filter(status=Payment.Status.SUCCEEDED).exists():
        return attempt  # charged; the fulfilment task finishes the order
    reason = payment.decline_code if payment is not None and payment.decline_code else refusal
    return _failed(attempt, reason, now)


def _failed(attempt: RenewalAttempt, reason: str, now: datetime) -> RenewalAttempt:
    # Settled, the next try scheduled and the customer's notice owed in one transaction: a worker
    # killed in between leaves all of it or none of it.
    with transaction.atomic():
        if not _finish(attempt, RenewalAttempt.Status.FAILED, reason, now):
            return attempt
        following = _schedule_next(attempt, now)
        if following is None and _retention_fallback(attempt, now):
            return attempt
        _notify(
            attempt,
            "autorenew_failed",
            {
                "reason": reason,
                "reason_text": autorenew_reason(reason),
                "next_at": following.due_at if following else None,
            },
        )
    return attempt


def _schedule_next(attempt: RenewalAttempt, now: datetime) -> RenewalAttempt | None:
    line = attempt.line
    first = RenewalAttempt.objects.filter(line=line, cycle_end=attempt.cycle_end, number=1).values_list(
        "due_at", flat=True
    )
    at = next_attempt_at(
        first_at=first[0] if first else attempt.due_at,
        cycle_end=attempt.cycle_end,
        grace_end=_grace_end(line, attempt.cycle_end),
        after=max(now, attempt.due_at),
    )
    if at is None:
        return None
    return _follow_with(attempt, at, attempt.plan if attempt.plan_id and attempt.plan.kind == "retention" else None)


def _follow_with(attempt: RenewalAttempt, due_at: datetime, plan) -> RenewalAttempt:
    """The attempt after ``attempt`` (once: a racing settle finds the one already made)."""
    try:
        with transaction.atomic():
            return RenewalAttempt.objects.create(
                line=attempt.line, cycle_end=attempt.cycle_end, number=attempt.number + 1, due_at=due_at, plan=plan
            )
    except IntegrityError:
        return RenewalAttempt.objects.get(line=attempt.line, cycle_end=attempt.cycle_end, number=attempt.number + 1)


def _retention_fallback(attempt: RenewalAttempt, now: datetime) -> bool:
    """The last retry failed: for customers who chose it, try the plan's "keep my number" plan once
    (it costs less) instead of letting the line lapse."""
    line = attempt.line
    settings = autorenew_settings(line)
    plan = attempt.plan or line.plan
    retention = plan.retention_plan if plan.kind != "retention" else None
    if not settings.retention_fallback or retention is None:
        return False
    _follow_with(attempt, now, retention)
    return True


def _notify(attempt: RenewalAttempt, rule: str, context: dict, channels=("email", "sms")) -> None:
    from refill.notifications.services import notice

    line = attempt.line
    notice(
        channels=channels,
        rule=rule,
        subject_key=f"line:{line.pk}:{attempt.cycle_end:%Y%m%d%H%M%S}:{attempt.number}",
        customer=line.owner,
        line=line,
        context={"attempt": attempt, "cycle_end": attempt.cycle_end, **context},
    )


def autorenew_settle_stuck(*, now: datetime | None = None) -> int:
    """Attempts still running after REFILL_AUTORENEW_STUCK_AFTER: their worker died, or their
    charge waited for reconciliation. Settle each from its order: paid is a success; an open charge
    keeps waiting; a declined one is a failure (with its retry); no order, or an order never
    charged, is run again (the order's key makes the re-run find the same order)."""
    now = now or timezone.now()
    settled = 0
    for attempt in RenewalAttempt.objects.filter(
        status=RenewalAttempt.Status.RUNNING, started_at__lt=timezone.now() - _stuck_after()
    ).select_related("line", "line__market", "line__owner", "line__plan", "plan"):
        if attempt.order_id is None or not Payment.objects.filter(order_id=attempt.order_id).exists():
            RenewalAttempt.objects.filter(pk=attempt.pk, status=RenewalAttempt.Status.RUNNING).update(
                status=RenewalAttempt.Status.DUE, started_at=None
            )
            settled += 1
            continue
        payment = Payment.objects.filter(order_id=attempt.order_id, method="card").order_by("-pk").first()
        before = attempt.status
        _settle(attempt, payment, now)
        attempt.refresh_from_db()
        settled += attempt.status != before
    return settled


def autorenew_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the engine (the scheduler enqueues it every minute)."""
    return {
        "scheduled": autorenew_schedule(now=now),
        "settled": autorenew_settle_stuck(now=now),
        "ran": autorenew_run_due(now=now),
    }
