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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from refill.catalog.models import Plan
from refill.domain.autorenew import cap_refusal, month_window, next_attempt_at
from refill.domain.lifecycle import LineStatus
from refill.errors import RefillError
from refill.events import emit_many
from refill.lines.models import Line
from refill.ops.bulk import bulk_set
from refill.orders.checkout import RenewalRequest, orders_create_renewals
from refill.orders.errors import autorenew_reason
from refill.orders.models import Order
from refill.orders.paying import CardCharge, charge_request, order_pay_wallet, payments_start, share_of_wallet
from refill.orders.pricing import price_lookup, renewal_quote_lookup
from refill.orders.settling import payment_complete, payments_complete
from refill.payments.models import Payment, PaymentMethod

from .models import AutoRenew, RenewalAttempt

logger = logging.getLogger(__name__)

# Card payments recorded at a time per charging thread (see _card_round).
CHARGES_PER_THREAD = 4

# Lines the engine renews: running, kept, or lapsed but still in grace.
RENEWS = [LineStatus.ACTIVE, LineStatus.RETAINED, LineStatus.GRACE]


# An attempt running this long was left by a dead worker: settle it from what its order shows.
def _stuck_after() -> timedelta:
    from django.conf import settings

    return timedelta(seconds=settings.REFILL_AUTORENEW_STUCK_AFTER)


def autorenew_settings(line: Line) -> AutoRenew:
    """The line's settings; a line never set up gets the defaults (off), without writing a row."""
    return AutoRenew.objects.filter(line=line).first() or AutoRenew(line=line)


def autorenew_update(*, line: Line, actor, reason: str = "", **changes) -> AutoRenew:
    """Change a line's auto-renew settings (portal, API, agent desk, back office); audited with who
    did it and why (staff give a reason)."""
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
            reason=reason,
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
                iter(_with_lines(RenewalAttempt.objects.filter(pk=attempt.pk, status=RenewalAttempt.Status.RUNNING))),
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
    from django.db import connection

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
    return _with_lines(RenewalAttempt.objects.filter(pk__in=ids).order_by("due_at", "pk"))


def _with_lines(attempts) -> list[RenewalAttempt]:
    """Attempts with their lines and owners; the few markets and plans they share are read once
    and shared, not once per attempt."""
    from refill.catalog.models import Market

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


def _finish(attempt: RenewalAttempt, status: str, reason: str = "", now: datetime | None = None) -> bool:
    """Settle a running attempt once; False if someone else already did."""
    return bool(_finish_many([attempt.pk], status, reason, now))


def _finish_many(ids: list[int], status: str, reason: str = "", now: datetime | None = None) -> set[int]:
    """Settle running attempts once each; returns those this call settled (not someone else)."""
    from django.db import connection

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


@dataclass
class _Job:
    """One attempt on its way through a batch."""

    attempt: RenewalAttempt
    settings: AutoRenew
    plan: Plan | None = None
    order: Order | None = None
    methods: list[PaymentMethod] = field(default_factory=list)
    payment: Payment | None = None
    refusal: str = "no_payment_method"
    done: bool = False


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
    jobs = _jobs(attempts, now)
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
            _failed(job.attempt, answer.code, now)
        else:
            job.order = job.attempt.order = answer
            job.attempt.plan = job.plan
            ordered.append(job)
    bulk_set([job.attempt for job in ordered], ["order", "plan"])
    ordered_at = time.perf_counter()
    _pay_all(ordered, now)
    paid_at = time.perf_counter()
    _settle_all(ordered, now)
    logger.debug(
        "auto-renew batch of %s: orders %.2f s, payments %.2f s, settling %.2f s",
        len(attempts),
        ordered_at - began,
        paid_at - ordered_at,
        time.perf_counter() - paid_at,
    )


def _jobs(attempts: list[RenewalAttempt], now: datetime) -> list[_Job]:
    """Steps 1 and 2: the attempts that go on to be paid, the others settled here."""
    from refill.subscriptions.selectors import periods_ahead_of

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
        if line.status not in RENEWS or now >= _grace_end(line, attempt.cycle_end):
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
            _failed(attempt, exc.code, now)
            continue
        refusal = cap_refusal(
            price=quote.quote.total.amount,
            cap_per_renewal=settings.cap_per_renewal,
            cap_per_month=settings.cap_per_month,
            spent_this_month=spent.get(line.pk, Decimal(0)),
        )
        if refusal is not None:
            with transaction.atomic():
                if _finish(attempt, RenewalAttempt.Status.OVER_CAP, refusal, now):
                    _schedule_next(attempt, now)
                    context = {"price": quote.quote.total, "reason": refusal, "settings": settings}
                    _notify(attempt, "autorenew_over_cap", context)
            continue
        jobs.append(_Job(attempt=attempt, settings=settings, plan=plan))
    for reason, ids in skipped.items():
        _finish_many(ids, RenewalAttempt.Status.SKIPPED, reason, now)
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


def _pay_all(jobs: list[_Job], now: datetime) -> None:
    """Step 4. The wallet pays when it covers the whole price; otherwise the default, then the
    backup saved method, off session (with the wallet's share first if the customer chose it).
    A job stops at the first payment that succeeded or is still open: a lost answer is never
    followed by another charge."""
    customers = {job.attempt.line.owner_id for job in jobs}
    methods: dict[int, list[PaymentMethod]] = {}
    for method in PaymentMethod.objects.filter(customer_id__in=customers, removed_at__isnull=True).filter(
        Q(is_default=True) | Q(is_backup=True)
    ):
        methods.setdefault(method.customer_id, []).append(method)
    walleted = [job for job in jobs if job.settings.use_wallet]
    balances = _wallet_balances(walleted)
    for job in jobs:
        owned = methods.get(job.attempt.line.owner_id, [])
        if job.settings.use_default_method:
            job.methods += [method for method in owned if method.is_default]
        if job.settings.use_backup_method:
            job.methods += [method for method in owned if method.is_backup and not method.is_default]
        wallet = (job.order.customer_id, job.order.currency)
        if job.order.total == 0 or (job.settings.use_wallet and balances.get(wallet, Decimal(0)) >= job.order.total):
            # (A renewal its promotions made free is settled the same way: nothing to charge.)
            try:
                job.payment, job.done = order_pay_wallet(order=job.order, now=now), True
                balances[wallet] -= job.order.total  # what the customer's next line can use
            except RefillError:
                pass  # spent meanwhile: go on with the cards
    round_jobs = [job for job in jobs if not job.done]
    while round_jobs:
        RenewalAttempt.objects.filter(
            pk__in=[job.attempt.pk for job in round_jobs], status=RenewalAttempt.Status.RUNNING
        ).update(started_at=timezone.now())  # still alive: not for autorenew_settle_stuck yet
        round_jobs = _card_round([job for job in round_jobs if job.methods], balances, now)
    from refill.orders.services import receipts_number

    receipts_number()


def _wallet_balances(jobs: list[_Job]) -> dict[tuple[int, str], Decimal]:
    """Each (customer, currency) wallet's balance, kept up to date by the batch as it spends."""
    from refill.ledger.models import Account
    from refill.ledger.services import account_balances

    if not jobs:
        return {}
    accounts = Account.objects.filter(
        purpose=Account.Purpose.WALLET,
        customer_id__in={job.order.customer_id for job in jobs},
        currency__in={job.order.currency for job in jobs},
        reference="",
    )
    return {(account.customer_id, account.currency): balance for account, balance in account_balances(accounts).items()}


def _card_round(jobs: list[_Job], balances: dict[tuple[int, str], Decimal], now: datetime) -> list[_Job]:
    """Charge each job's next method; returns the jobs to try again with their following one."""
    from refill.integrations.payments.base import Capability, PaymentToken
    from refill.payments.gateways import gateway_require

    if not jobs:
        return []
    charges, using, gateways, again, shares = [], {}, {}, [], {}
    for job in jobs:
        method = job.methods.pop(0)
        try:
            # Looked up before anything is recorded: a method whose provider is not configured, or
            # cannot charge with nobody present, is passed over, never left with a payment that
            # cannot be sent.
            gateways[method.gateway] = gateways.get(method.gateway) or gateway_require(
                Capability.OFF_SESSION, method.gateway
            )
        except Exception:
            logger.exception("auto-renew of order %s: gateway %r unavailable", job.order.pk, method.gateway)
            job.refusal = "gateway_unavailable"
            again.append(job)
            continue
        using[job.order.pk] = (job, method)
        token = PaymentToken(method.token, method.brand, method.last4, method.exp_month or 0, method.exp_year or 0)
        share = Decimal(0)
        wallet = (job.order.customer_id, job.order.currency)
        if job.settings.use_wallet:
            share = share_of_wallet(balances.get(wallet, Decimal(0)), job.order)
            balances[wallet] = balances.get(wallet, Decimal(0)) - share  # held for this order
            shares[job.order.pk] = share
        charges.append(CardCharge(order=job.order, token=token, gateway=method.gateway, wallet_amount=share))
    # Recorded a few threads' worth at a time, each part just before its calls: a worker killed
    # mid-batch leaves few recorded-but-unsent charges (each fails as never sent, and is retried).
    # Charged ones are settled together below; one left unsettled by a kill is found charged by
    # reconciliation.
    size = _threads() * CHARGES_PER_THREAD
    results = []
    for start in range(0, len(charges), size):
        answers = payments_start(charges=charges[start : start + size], now=now)
        calls = []
        for order_id, answer in answers.items():
            job, method = using[order_id]
            if answer is None:
                job.done = True  # already paid (or charged): settled below from the order
            elif isinstance(answer, RefillError):
                logger.info("auto-renew of order %s with method %s refused: %s", order_id, method.pk, answer.code)
                job.refusal = answer.code
                again.append(job)
            else:
                job.payment = answer
                request = charge_request(
                    answer, method.token, customer_reference=method.provider_customer, off_session=True
                )
                calls.append((gateways[method.gateway], answer, request))
        results += _charge_all(calls)
    try:
        settled = payments_complete(results=results, now=now)
    except Exception:
        # One bad answer must not keep the others from being recorded: settle them one by one
        # (each is idempotent; one that fails again is left for reconciliation).
        logger.exception("auto-renew: settling %s answers together failed; settling them one by one", len(results))
        settled = []
        for payment, result in results:
            try:
                settled.append(payment_complete(payment=payment, result=result, now=now))
            except Exception:
                logger.exception("payment %s: could not be settled; reconciliation will", payment.pk)
                using[payment.order_id][0].done = True  # open: never charged again
    for payment in settled:
        job, _ = using[payment.order_id]
        job.payment = payment
        if payment.status == Payment.Status.FAILED:
            again.append(job)
        else:
            job.done = True
    for job in again:
        # Refused (nothing held) or declined (the hold given back): the next method may use it.
        wallet = (job.order.customer_id, job.order.currency)
        balances[wallet] = balances.get(wallet, Decimal(0)) + shares.get(job.order.pk, Decimal(0))
    return again


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _charge_all(calls: list) -> list:
    """Call the provider for each (gateway, payment, request) within the provider's rate, with up
    to REFILL_AUTORENEW_THREADS calls in flight on this worker's threads. This thread takes each
    call's share of the rate before handing it to the pool, so the calls start evenly and no
    thread waits on another. Answers (payment, result) in order."""
    from refill.integrations.payments.limits import Limited, limiter_for
    from refill.payments.services import provider_charge

    global _pool
    threads = min(_threads(), len(calls))
    if threads <= 1:
        return [(payment, provider_charge(Limited(gateway), payment, request)) for gateway, payment, request in calls]
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="autorenew-charge")
    futures = []
    for gateway, payment, request in calls:
        limiter_for(gateway.name).take()
        futures.append(_pool.submit(_pooled_charge, gateway, payment, request))
    return [(payment, future.result()) for (_, payment, _), future in zip(calls, futures, strict=True)]


_checked = threading.local()


def _pooled_charge(gateway, payment, request):
    """provider_charge on a pool thread, whose database connection lives as long as the process:
    checked (and replaced if broken or too old) as a request's would be, after an error or at
    most every 30 seconds (a check costs a round trip)."""
    from django.db import close_old_connections, connection

    from refill.payments.services import provider_charge

    if connection.errors_occurred or time.monotonic() - getattr(_checked, "at", 0.0) > 30:
        close_old_connections()
        _checked.at = time.monotonic()
    return provider_charge(gateway, payment, request)


def _settle_all(jobs: list[_Job], now: datetime) -> None:
    """Step 5. A paid order is a success (the confirmation email goes with every paid order; the
    customer also gets an SMS). A charge still open waits for reconciliation (autorenew_settle_stuck
    settles it later); a charged order waiting for its fulfilment waits for its task. Anything
    else failed: its retry is scheduled and the customer told why."""
    from refill.notifications.services import Notice, notices_owe

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
        finished = _finish_many([job.attempt.pk for job in succeeded], RenewalAttempt.Status.SUCCEEDED, "", now)
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
        _failed(job.attempt, declines.get(job.attempt.order_id) or job.refusal, now)


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


def _failed(attempt: RenewalAttempt, reason: str, now: datetime) -> RenewalAttempt:
    # Settled, the next try scheduled and the customer's notice owed in one transaction: a worker
    # killed in between leaves all of it or none of it.
    with transaction.atomic():
        if not _finish(attempt, RenewalAttempt.Status.FAILED, reason, now):
            return attempt
        emit_many("renewal.failed", [{**_renewal_event(attempt, attempt.order), "reason": reason}], now=now)
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
    plan = attempt.plan or line.renewal_plan
    retention = plan.retention_plan if plan.kind != "retention" else None
    if not settings.retention_fallback or retention is None:
        return False
    _follow_with(attempt, now, retention)
    return True


def _subject_key(attempt: RenewalAttempt) -> str:
    return f"line:{attempt.line_id}:{attempt.cycle_end:%Y%m%d%H%M%S}:{attempt.number}"


def _notify(attempt: RenewalAttempt, rule: str, context: dict, channels=("email", "sms")) -> None:
    from refill.notifications.services import notice

    line = attempt.line
    notice(
        channels=channels,
        rule=rule,
        subject_key=_subject_key(attempt),
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
        _Job(
            attempt=attempt,
            settings=AutoRenew(line=attempt.line),
            order=attempt.order,
            payment=last_card.get(attempt.order_id),
        )
        for attempt in stuck
        if attempt.order_id in charged
    ]
    _settle_all(jobs, now)
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
