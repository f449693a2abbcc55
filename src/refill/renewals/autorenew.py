"""The auto-renew engine: schedules an attempt ``auto_renew_lead`` before each period of an opted-in
line ends, runs due attempts (wallet first, then the default and the backup saved method, charged
off session), retries failures on domain.md's schedule until the grace period ends, respects the
spending caps, and tells the customer what happened each time.

Every step is safe to run twice, late, or on several workers at once: attempts are unique per
(line, period end, number); a due attempt is claimed by one conditional update; each attempt pays
its own order under its own idempotency key; and the next attempt is only scheduled once the
previous one is settled, so one period can never be paid twice.

This module is the sweep (schedule, claim, run a batch, settle stuck attempts); a batch's steps
live with their concern: ``autorenew_due`` (which attempts go on: settings, quotes, caps),
``autorenew_charging`` (wallet and card rounds within the provider's rate) and
``autorenew_outcomes`` (settling an attempt, its retry, the customer's notice and the events).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from refill.audit.services import audit_record
from refill.catalog.models import Market
from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.bulk import bulk_set
from refill.orders.checkout import RenewalRequest, orders_create_renewals
from refill.payments.models import Payment

from .autorenew_charging import jobs_pay
from .autorenew_due import RENEWS, Job, attempts_with_lines, jobs_choose
from .autorenew_outcomes import attempt_failed, jobs_settle
from .models import AutoRenew, RenewalAttempt

logger = logging.getLogger(__name__)


# An attempt running this long was left by a dead worker: settle it from what its order shows.
def _stuck_after() -> timedelta:
    return timedelta(seconds=django_settings.REFILL_AUTORENEW_STUCK_AFTER)


def autorenew_settings(line: Line) -> AutoRenew:
    """The line's settings; a line never set up gets the defaults (off), without writing a row."""
    return AutoRenew.objects.filter(line=line).first() or AutoRenew(line=line)


def autorenew_update(*, line: Line, actor, reason: str = "", **changes) -> AutoRenew:
    """Change a line's auto-renew settings (portal, API, agent desk, back office); audited with who
    did it and why (staff give a reason)."""
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
            reason=reason,
            data={name: str(value) for name, value in changes.items()},
        )
    return settings


# Scheduling ----------------------------------------------------------------------------------


def autorenew_schedule(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Owe a first attempt to every opted-in line whose period ends within its market's lead and
    has none for that end yet (also a lapsed line still in grace whose owner just opted in)."""
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


def autorenew_run_due(*, now: datetime | None = None, batch: int = 500, limit: int | None = None) -> int:
    """Run due attempts, a batch at a time, until none is left (or ``limit`` ran). Each batch is
    claimed by one statement that skips rows another worker holds, so concurrent workers split the
    work; a batch is renewed in a few statements per step (see autorenew_run_batch), its provider
    calls overlapping on this worker's threads. Returns how many attempts this call ran."""
    now = now or timezone.now()
    ran = 0
    while limit is None or ran < limit:
        attempts = _claim(now, batch if limit is None else min(batch, limit - ran))
        if not attempts:
            break
        _run_batch_safely(attempts, now)
        ran += len(attempts)
    return ran


def _run_batch_safely(attempts: list[RenewalAttempt], now: datetime) -> None:
    """A batch that fails unexpectedly is run again attempt by attempt, so that one bad attempt
    holds back no other. Attempts already charged are left for autorenew_settle_stuck."""
    try:
        autorenew_run_batch(attempts, now=now)
    except Exception:
        logger.exception("auto-renew batch of %s attempts failed; running them one by one", len(attempts))
        for attempt in attempts:
            fresh = next(
                iter(
                    attempts_with_lines(
                        RenewalAttempt.objects.filter(pk=attempt.pk, status=RenewalAttempt.Status.RUNNING)
                    )
                ),
                None,
            )
            if fresh is None or (fresh.order_id and Payment.objects.filter(order_id=fresh.order_id).exists()):
                continue
            try:
                autorenew_run_batch([fresh], now=now)
            except Exception:
                # Left running: autorenew_settle_stuck decides from its order once it is old enough.
                logger.exception("auto-renew attempt %s failed unexpectedly", attempt.pk)


def _claim(now: datetime, size: int) -> list[RenewalAttempt]:
    """Take up to ``size`` due attempts (oldest first) for this worker: due -> running."""
    q = connection.ops.quote_name
    table = q(RenewalAttempt._meta.db_table)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    started = connection.ops.adapt_datetimefield_value(timezone.now())
    # The rows are picked once, in a CTE: PostgreSQL may run an `IN (SELECT … LIMIT …)` subquery
    # more than once, and with SKIP LOCKED each run can pick other rows (batches many times the size).
    returning = f"{table}.{q('id')}" if connection.vendor == "postgresql" else q("id")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH picked AS (SELECT {q('id')} FROM {table} WHERE {q('status')} = %s AND {q('due_at')} <= %s "
            f"ORDER BY {q('due_at')}, {q('id')} LIMIT %s{skip_locked}) "
            f"UPDATE {table} SET {q('status')} = %s, {q('started_at')} = %s FROM picked "
            f"WHERE {table}.{q('id')} = picked.{q('id')} AND {table}.{q('status')} = %s RETURNING {returning}",
            [
                RenewalAttempt.Status.DUE,
                connection.ops.adapt_datetimefield_value(now),
                size,
                RenewalAttempt.Status.RUNNING,
                started,
                RenewalAttempt.Status.DUE,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return attempts_with_lines(RenewalAttempt.objects.filter(pk__in=ids).order_by("due_at", "pk"))


def autorenew_run_batch(attempts: list[RenewalAttempt], *, now: datetime) -> None:
    """Run claimed attempts together, each step in a few statements however many there are:

    1. read the lines' settings, prices, saved methods, wallets and this month's spending;
    2. skip what needs no renewal, fail what cannot be quoted, hold back what is over a cap;
    3. create the orders (one transaction) and link them to their attempts;
    4. pay: the wallet when it covers the price; then card rounds (default method, then backup),
       each recording its attempts (one transaction), calling the provider on this worker's
       threads through the provider's limiter, and settling the answers and fulfilling the paid
       orders (one transaction);
    5. settle the attempts and owe the customers their notices.

    Each step is safe to die in: an attempt whose worker died is settled from its order by
    autorenew_settle_stuck, and re-running finds the same order by its key."""
    began = time.perf_counter()
    jobs = jobs_choose(attempts, now)
    if not jobs:
        return
    requests = [
        RenewalRequest(
            customer=job.attempt.line.owner,
            line=job.attempt.line,
            plan=job.plan,
            periods=1,
            idempotency_key=f"auto:{job.attempt.line_id}:{job.attempt.cycle_end:%Y%m%d%H%M%S}:{job.attempt.number}",
            language=job.attempt.line.owner.preferred_language,
            channel="auto",
        )
        for job in jobs
    ]
    answers = orders_create_renewals(requests=requests, now=now)
    ordered = []
    for job, answer in zip(jobs, answers, strict=True):
        if isinstance(answer, RefillError):
            attempt_failed(job.attempt, answer.code, now)
        else:
            job.order = job.attempt.order = answer
            job.attempt.plan = job.plan
            ordered.append(job)
    bulk_set([job.attempt for job in ordered], ["order", "plan"])
    ordered_at = time.perf_counter()
    jobs_pay(ordered, now)
    paid_at = time.perf_counter()
    jobs_settle(ordered, now)
    logger.debug(
        "auto-renew batch of %s: orders %.2f s, payments %.2f s, settling %.2f s",
        len(attempts),
        ordered_at - began,
        paid_at - ordered_at,
        time.perf_counter() - paid_at,
    )


def autorenew_settle_stuck(*, now: datetime | None = None) -> int:
    """Attempts still running after REFILL_AUTORENEW_STUCK_AFTER: their worker died, or their
    charge waited for reconciliation. Settle each from its order: paid is a success; an open charge
    keeps waiting; a declined one is a failure (with its retry); no order, or an order never
    charged, is run again (the order's key makes the re-run find the same order)."""
    now = now or timezone.now()
    stuck = list(
        RenewalAttempt.objects.filter(
            status=RenewalAttempt.Status.RUNNING, started_at__lt=timezone.now() - _stuck_after()
        ).select_related("line", "line__market", "line__owner", "line__plan", "plan", "order")
    )
    charged = set(Payment.objects.filter(order_id__in=[a.order_id for a in stuck]).values_list("order_id", flat=True))
    again = [attempt.pk for attempt in stuck if attempt.order_id not in charged]
    settled = RenewalAttempt.objects.filter(pk__in=again, status=RenewalAttempt.Status.RUNNING).update(
        status=RenewalAttempt.Status.DUE, started_at=None
    )
    last_card = {}
    for payment in Payment.objects.filter(order_id__in=charged, method="card").order_by("pk"):
        last_card[payment.order_id] = payment
    jobs = [
        Job(
            attempt=attempt,
            settings=AutoRenew(line=attempt.line),
            order=attempt.order,
            payment=last_card.get(attempt.order_id),
        )
        for attempt in stuck
        if attempt.order_id in charged
    ]
    jobs_settle(jobs, now)
    still = set(
        RenewalAttempt.objects.filter(
            pk__in=[job.attempt.pk for job in jobs], status=RenewalAttempt.Status.RUNNING
        ).values_list("pk", flat=True)
    )
    return settled + len(jobs) - len(still)


def autorenew_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the engine (the scheduler enqueues it every minute)."""
    return {
        "scheduled": autorenew_schedule(now=now),
        "settled": autorenew_settle_stuck(now=now),
        "ran": autorenew_run_due(now=now),
    }
