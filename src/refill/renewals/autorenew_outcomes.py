"""How an auto-renew attempt ends, and what the customer is told: an attempt is settled once
(succeeded, failed, skipped, over a cap), a failed one schedules its retry on domain.md's schedule
(or, after the last retry, the retention plan for customers who chose it), and each outcome owes
the customer a notice and partners an event, in the transaction that settles the attempt."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from refill.domain.autorenew import next_attempt_at
from refill.events import emit_many
from refill.lines.models import Line
from refill.notifications.services import Notice, notice, notices_owe
from refill.orders.errors import autorenew_reason
from refill.orders.models import Order
from refill.payments.models import Payment

from .models import AutoRenew, RenewalAttempt

if TYPE_CHECKING:
    from .autorenew_due import Job


def grace_end(line: Line, cycle_end: datetime) -> datetime:
    """When a line whose period ended at ``cycle_end`` leaves grace: the last moment to renew it."""
    return cycle_end + timedelta(days=line.market.grace_days)


def attempt_finish(attempt: RenewalAttempt, status: str, reason: str = "", now: datetime | None = None) -> bool:
    """Settle a running attempt once; False if someone else already did."""
    return bool(attempts_finish([attempt.pk], status, reason, now))


def attempts_finish(ids: list[int], status: str, reason: str = "", now: datetime | None = None) -> set[int]:
    """Settle running attempts once each; returns those this call settled (not someone else)."""
    if not ids:
        return set()
    q = connection.ops.quote_name
    table = q(RenewalAttempt._meta.db_table)
    finished = connection.ops.adapt_datetimefield_value(now or timezone.now())
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {q('status')} = %s, {q('reason')} = %s, {q('finished_at')} = %s "
            f"WHERE {q('id')} IN ({marks}) AND {q('status')} = %s RETURNING {q('id')}",
            [status, reason[:40], finished, *ids, RenewalAttempt.Status.RUNNING],
        )
        return {row[0] for row in cursor.fetchall()}


def jobs_settle(jobs: list[Job], now: datetime) -> None:
    """Step 5. A paid order is a success (the confirmation email goes with every paid order; the
    customer also gets an SMS). A charge still open waits for reconciliation (autorenew_settle_stuck
    settles it later); a charged order waiting for its fulfilment waits for its task. Anything
    else failed: its retry is scheduled and the customer told why."""
    if not jobs:
        return
    order_ids = [job.attempt.order_id for job in jobs]
    paid = set(Order.objects.filter(pk__in=order_ids, status=Order.Status.PAID).values_list("pk", flat=True))
    waiting = set(
        Payment.objects.filter(
            order_id__in=[pk for pk in order_ids if pk not in paid],
            status__in=[Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.SUCCEEDED],
        ).values_list("order_id", flat=True)
    )
    succeeded = [job for job in jobs if job.attempt.order_id in paid]
    with transaction.atomic():
        finished = attempts_finish([job.attempt.pk for job in succeeded], RenewalAttempt.Status.SUCCEEDED, "", now)
        notices_owe(
            [
                Notice(
                    rule="autorenew_succeeded",
                    subject_key=_subject_key(job.attempt),
                    customer=job.attempt.line.owner,
                    line=job.attempt.line,
                    context={"attempt": job.attempt, "cycle_end": job.attempt.cycle_end, "order": job.order},
                    channels=("sms",),
                )
                for job in succeeded
                if job.attempt.pk in finished
            ],
            now=now,
            # One renewal's SMS goes at once; a batch's go by the delivery task, so that the worker
            # goes on renewing instead of waiting for the SMS provider.
            deliver_later=len(succeeded) > 1,
        )
        emit_many(
            "renewal.succeeded",
            [_renewal_event(job.attempt, job.order) for job in succeeded if job.attempt.pk in finished],
            now=now,
        )
    failed = [job for job in jobs if job.attempt.order_id not in paid and job.attempt.order_id not in waiting]
    # Why, as the database has it now: reconciliation may have settled a charge since this batch
    # last looked at it.
    declines = dict(
        Payment.objects.filter(order_id__in=[job.attempt.order_id for job in failed], method=Payment.Method.CARD)
        .exclude(decline_code="")
        .order_by("pk")
        .values_list("order_id", "decline_code")
    )
    for job in failed:
        attempt_failed(job.attempt, declines.get(job.attempt.order_id) or job.refusal, now)


def _renewal_event(attempt: RenewalAttempt, order: Order | None) -> dict:
    """The event of an auto-renewal: its payload is what partners are told (no personal data beyond
    the number)."""
    return {
        "line_id": attempt.line_id,
        "customer_id": attempt.line.owner_id,
        "msisdn": attempt.line.msisdn,
        "cycle_end": attempt.cycle_end,
        "attempt": attempt.number,
        "order_id": order.pk if order else None,
        "total": str(order.total) if order else None,
        "currency": order.currency if order else None,
    }


def attempt_failed(attempt: RenewalAttempt, reason: str, now: datetime) -> RenewalAttempt:
    """Settle ``attempt`` as failed for ``reason``, schedule its retry and tell the customer."""
    # Settled, the next try scheduled and the customer's notice owed in one transaction: a worker
    # killed in between leaves all of it or none of it.
    with transaction.atomic():
        if not attempt_finish(attempt, RenewalAttempt.Status.FAILED, reason, now):
            return attempt
        emit_many("renewal.failed", [{**_renewal_event(attempt, attempt.order), "reason": reason}], now=now)
        following = attempt_schedule_next(attempt, now)
        if following is None and _retention_fallback(attempt, now):
            return attempt
        attempt_notify(
            attempt,
            "autorenew_failed",
            {
                "reason": reason,
                "reason_text": autorenew_reason(reason),
                "next_at": following.due_at if following else None,
            },
        )
    return attempt


def attempt_schedule_next(attempt: RenewalAttempt, now: datetime) -> RenewalAttempt | None:
    """The retry of a settled attempt on domain.md's schedule; None when the grace period has no
    room left for one."""
    line = attempt.line
    first = RenewalAttempt.objects.filter(line=line, cycle_end=attempt.cycle_end, number=1).values_list(
        "due_at", flat=True
    )
    at = next_attempt_at(
        first_at=first[0] if first else attempt.due_at,
        cycle_end=attempt.cycle_end,
        grace_end=grace_end(line, attempt.cycle_end),
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
    # A line never set up has the defaults: no fallback.
    chosen = AutoRenew.objects.filter(line=line).values_list("retention_fallback", flat=True).first()
    plan = attempt.plan or line.renewal_plan
    retention = plan.retention_plan if plan.kind != "retention" else None
    if not chosen or retention is None:
        return False
    _follow_with(attempt, now, retention)
    return True


def _subject_key(attempt: RenewalAttempt) -> str:
    return f"line:{attempt.line_id}:{attempt.cycle_end:%Y%m%d%H%M%S}:{attempt.number}"


def attempt_notify(attempt: RenewalAttempt, rule: str, context: dict, channels=("email", "sms")) -> None:
    """Owe the line's owner the notice of ``rule`` about ``attempt`` (once per attempt and rule)."""
    line = attempt.line
    notice(
        channels=channels,
        rule=rule,
        subject_key=_subject_key(attempt),
        customer=line.owner,
        line=line,
        context={"attempt": attempt, "cycle_end": attempt.cycle_end, **context},
    )
