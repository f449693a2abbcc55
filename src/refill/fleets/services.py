"""Bulk jobs over a business's lines (its groups are in ``groups``, its people in ``members``).

A renewal job runs in three steps, each safe to run twice or to resume after a crash:

1. **check** (background): every number is found among the business's lines, and each line is
   priced with an order of its own (not paid), or marked failed with the reason;
2. **pay**: an administrator pays the batch once, from the business's wallet or with one card
   charge into it (the job's funding order);
3. **apply** (background, once the payment is in): the lines' orders are paid from the wallet and
   fulfilled, in chunks. A line that can no longer be renewed fails, its order is cancelled, and
   the money of every line that was not renewed goes back to the card it came from. A job with
   renewed lines gets one invoice number.

Changing the plan (at the next renewal) and turning auto-renew on or off are done in the check step.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_event, audit_record, audit_records
from refill.catalog.models import Plan
from refill.domain.lifecycle import LineStatus, is_renewable
from refill.errors import RefillError
from refill.ledger.services import wallet_balance
from refill.notifications.services import notice
from refill.ops.bulk import bulk_insert, bulk_set, unsaved
from refill.orders.checkout import RenewalRequest, orders_create_renewals
from refill.orders.errors import IdempotencyConflict, LineNotRenewable, PlanNotAvailable, WalletTooLow
from refill.orders.models import Order
from refill.orders.payable import orders_payable_refusals
from refill.orders.paying import PayWith, order_pay
from refill.orders.pricing import RENEWABLE_PLAN_KINDS
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment
from refill.promotions.services import redemptions_release
from refill.renewals.autorenew import autorenew_update

from . import tasks
from .access import require_admin
from .errors import FleetRefused, JobNotPayable, JobPricesExpired
from .models import BulkJob, BulkJobLine
from .numbers import find_line, fleet_lines
from .tasks import bulk_job_apply

logger = logging.getLogger(__name__)

MAX_JOB_LINES = 5000
CHUNK = 250
# A checked batch keeps its prices this long (its orders are payable for 24 hours).
JOB_PAYABLE_FOR = timedelta(hours=20)


# Creating a job -------------------------------------------------------------------------------


def bulk_job_create(
    *,
    customer,
    user,
    action: str,
    numbers: list[str],
    idempotency_key: str,
    plan: Plan | None = None,
    periods: int = 1,
    language: str = "en",
) -> BulkJob:
    """A bulk job over ``numbers`` (typed, selected or from a CSV file), checked in the background.
    Nothing is charged. The same key with the same request answers the job already made."""
    require_admin(user, customer)
    if action not in BulkJob.Action.values:
        raise FleetRefused(_("Choose what to do."))
    if action == BulkJob.Action.CHANGE_PLAN and plan is None:
        raise FleetRefused(_("Choose the plan."))
    if plan is not None and (not plan.is_active or plan.kind not in RENEWABLE_PLAN_KINDS):
        raise PlanNotAvailable()
    if action != BulkJob.Action.RENEW:
        periods = 1
    if not 1 <= periods <= 12:
        raise FleetRefused(_("Choose between 1 and 12 periods."))
    if not numbers:
        raise FleetRefused(_("Give at least one number."))
    if len(numbers) > MAX_JOB_LINES:
        raise FleetRefused(_("At most %(count)s numbers per job.") % {"count": MAX_JOB_LINES})
    if not idempotency_key or len(idempotency_key) > 80:
        raise IdempotencyConflict()
    signature = (action, plan.pk if plan else None, periods, len(numbers))
    existing = BulkJob.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        if (existing.action, existing.plan_id, existing.periods, existing.lines.count()) != signature:
            raise IdempotencyConflict()
        return existing
    try:
        with transaction.atomic():
            job = BulkJob.objects.create(
                customer=customer,
                created_by=user,
                idempotency_key=idempotency_key,
                action=action,
                plan=plan,
                periods=periods,
                language=language,
            )
            bulk_insert(
                unsaved(BulkJobLine, job=job, position=position, msisdn=raw[:32])
                for position, raw in enumerate(numbers, start=1)
            )
            audit_record(
                actor=user,
                action="fleet.job_create",
                obj=job,
                data={"action": action, "plan": plan.code if plan else None, "periods": periods, "lines": len(numbers)},
            )
            tasks.bulk_job_check.enqueue(job.pk)
    except IntegrityError:
        existing = BulkJob.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return job


# Step 1: check --------------------------------------------------------------------------------


def bulk_job_check(*, job_id: int, now: datetime | None = None) -> BulkJob:
    """Find, check and (for a renewal) price every waiting line of the job, a chunk per
    transaction; then the job waits for its payment (or is done, for the other actions)."""
    job = BulkJob.objects.select_related("customer", "plan", "created_by").get(pk=job_id)
    if job.status != BulkJob.Status.CHECKING:
        return job
    lines, regions = fleet_lines(job.customer)
    with translation.override(job.language):
        while True:
            with transaction.atomic():
                job = (
                    BulkJob.objects.select_for_update(of=("self",))
                    .select_related("customer", "plan", "created_by")
                    .get(pk=job_id)
                )
                if job.status != BulkJob.Status.CHECKING:
                    return job
                chunk = list(job.lines.filter(status=BulkJobLine.Status.PENDING).order_by("position")[:CHUNK])
                if not chunk:
                    break
                _check_chunk(job, chunk, lines, regions, now or timezone.now())
    return _check_finish(job_id, now)


def _check_chunk(job: BulkJob, chunk: list[BulkJobLine], lines, regions, now: datetime) -> None:
    seen = set(
        job.lines.exclude(status=BulkJobLine.Status.PENDING)
        .exclude(line__isnull=True)
        .values_list("line_id", flat=True)
    )
    wanted: list[BulkJobLine] = []
    for row in chunk:
        line, why = find_line(row.msisdn, lines, regions)
        if line is None:
            row.status, row.reason = BulkJobLine.Status.FAILED, str(why)
            continue
        row.msisdn = line.msisdn
        if line.pk in seen:
            row.status, row.reason = BulkJobLine.Status.FAILED, str(_("This number is listed twice."))
            continue
        seen.add(line.pk)
        row.line = line
        wanted.append(row)
    if job.action == BulkJob.Action.RENEW:
        _price(job, wanted, now)
    elif job.action == BulkJob.Action.CHANGE_PLAN:
        _change_plan(job, wanted)
    else:
        _auto_renew(job, wanted)
    bulk_set(chunk, ["msisdn", "line", "status", "reason", "order", "amount"])


def _price(job: BulkJob, rows: list[BulkJobLine], now: datetime) -> None:
    """An unpaid order per line, in the job's currency (the first line's)."""
    currency = job.currency
    requests, asked = [], []
    for row in rows:
        line = row.line
        plan = job.plan or line.renewal_plan
        if plan.market_id != line.market_id:
            row.status, row.reason = BulkJobLine.Status.FAILED, str(PlanNotAvailable())
            continue
        if currency and line.market.currency != currency:
            row.status = BulkJobLine.Status.FAILED
            row.reason = str(_("This line is paid in %(currency)s; the batch in %(batch)s.")) % {
                "currency": line.market.currency,
                "batch": currency,
            }
            continue
        currency = line.market.currency
        requests.append(
            RenewalRequest(
                customer=job.customer,
                line=line,
                plan=plan,
                periods=job.periods,
                idempotency_key=f"bulk:{job.pk}:{job.round}:{row.position}",
                language=job.language,
                actor=job.created_by,
                channel="fleet",
                bulk_job=job,
            )
        )
        asked.append(row)
    answers = orders_create_renewals(requests=requests, now=now) if requests else []
    for row, answer in zip(asked, answers, strict=True):
        if isinstance(answer, RefillError):
            row.status, row.reason = BulkJobLine.Status.FAILED, str(answer)
        else:
            row.status, row.order, row.amount = BulkJobLine.Status.READY, answer, answer.total
    if currency and not job.currency:
        job.currency = currency
        job.save(update_fields=["currency"])


def _change_plan(job: BulkJob, rows: list[BulkJobLine]) -> None:
    """The line's next renewal uses the job's plan (domain rule 4: a change waits for it)."""
    plan, changed, events = job.plan, [], []
    for row in rows:
        line = row.line
        if not is_renewable(LineStatus(line.status)):
            row.status, row.reason = BulkJobLine.Status.FAILED, str(LineNotRenewable())
            continue
        if plan.market_id != line.market_id or plan.current_price(line.market.currency) is None:
            row.status, row.reason = BulkJobLine.Status.FAILED, str(PlanNotAvailable())
            continue
        before = line.renewal_plan.code
        line.next_plan = None if plan.pk == line.plan_id else plan
        row.status = BulkJobLine.Status.DONE
        if before == plan.code:
            row.reason = str(_("Already renews onto this plan."))
            continue
        changed.append(line)
        events.append(
            audit_event(
                actor=job.created_by,
                action="line.plan_change",
                obj=line,
                reason=f"bulk job {job.pk}",
                data={"before": before, "after": plan.code},
            )
        )
    bulk_set(changed, ["next_plan"])
    audit_records(events)


def _auto_renew(job: BulkJob, rows: list[BulkJobLine]) -> None:
    enabled = job.action == BulkJob.Action.AUTO_RENEW_ON
    for row in rows:
        if enabled and not is_renewable(LineStatus(row.line.status)):
            row.status, row.reason = BulkJobLine.Status.FAILED, str(LineNotRenewable())
            continue
        autorenew_update(line=row.line, actor=job.created_by, reason=f"bulk job {job.pk}", enabled=enabled)
        row.status = BulkJobLine.Status.DONE


def _check_finish(job_id: int, now: datetime | None) -> BulkJob:
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkJob.Status.CHECKING:
            return job
        job.checked_at = now or timezone.now()
        if job.action == BulkJob.Action.RENEW:
            ready = job.lines.filter(status=BulkJobLine.Status.READY)
            job.total = ready.aggregate(total=Sum("amount"))["total"] or Decimal(0)
            if ready.exists():
                job.status = BulkJob.Status.AWAITING_PAYMENT
            else:
                job.status = BulkJob.Status.FAILED
                job.reason = "no_line"
                job.finished_at = job.checked_at
        else:
            job.status = BulkJob.Status.DONE
            job.finished_at = job.checked_at
        job.save(update_fields=["checked_at", "total", "status", "reason", "finished_at"])
        audit_record(actor=None, action="fleet.job_checked", obj=job, data=line_counts(job))
        if job.status != BulkJob.Status.AWAITING_PAYMENT:
            job_done_notice(job)
    return job


def line_counts(job: BulkJob) -> dict[str, int]:
    counts = dict.fromkeys(BulkJobLine.Status.values, 0)
    counts.update(job.lines.order_by().values_list("status").annotate(count=Count("pk")).values_list("status", "count"))
    return counts


def unrenewed_amount(job: BulkJob) -> Decimal:
    """What the batch's card payment brought in for lines that were not renewed after all."""
    if job.funding_id is None:
        return Decimal(0)  # paid from the wallet: the lines not renewed never took its money
    total = job.lines.filter(status=BulkJobLine.Status.FAILED, order__isnull=False).aggregate(total=Sum("amount"))[
        "total"
    ]
    return total or Decimal(0)


def job_done_notice(job: BulkJob) -> None:
    """One email to the business when a job is done (never one per line)."""
    notice(
        rule="fleet_job_done",
        subject_key=f"bulk_job:{job.pk}",
        customer=job.customer,
        context={"job": job, "counts": line_counts(job), "unrenewed": unrenewed_amount(job)},
        channels=("email",),
    )


def bulk_job_recheck(*, job: BulkJob, user) -> BulkJob:
    """Price a job again whose prices are too old to pay: its unpaid orders are cancelled and its
    ready lines checked again (failed lines stay failed)."""
    require_admin(user, job.customer)
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job.pk)
        if job.status != BulkJob.Status.AWAITING_PAYMENT or funding_open(job):
            raise JobNotPayable()
        ready = list(job.lines.filter(status=BulkJobLine.Status.READY))
        cancel_orders([row.order_id for row in ready])
        for row in ready:
            row.status, row.order, row.amount = BulkJobLine.Status.PENDING, None, None
        bulk_set(ready, ["status", "order", "amount"])
        if job.funding_id is not None:
            # A card payment that failed or was never made: its order goes with the old prices.
            Order.objects.filter(pk=job.funding_id).exclude(status=Order.Status.PAID).update(
                status=Order.Status.CANCELLED
            )
            job.funding = None
        job.status, job.total, job.round = BulkJob.Status.CHECKING, Decimal(0), job.round + 1
        job.save(update_fields=["status", "total", "round", "funding"])
        audit_record(actor=user, action="fleet.job_recheck", obj=job)
        tasks.bulk_job_check.enqueue(job.pk)
    return job


def cancel_orders(order_ids: list[int]) -> None:
    ids = [pk for pk in order_ids if pk]
    if ids:
        Order.objects.filter(pk__in=ids).exclude(status=Order.Status.PAID).update(status=Order.Status.CANCELLED)
        redemptions_release(order_ids=ids)


def bulk_job_cancel(*, job: BulkJob, user) -> BulkJob:
    """Give up a job waiting for its payment: its orders are cancelled, nothing is charged."""
    require_admin(user, job.customer)
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job.pk)
        if job.status != BulkJob.Status.AWAITING_PAYMENT or funding_open(job):
            raise JobNotPayable()
        ready = list(job.lines.filter(status=BulkJobLine.Status.READY))
        cancel_orders([row.order_id for row in ready])
        job.lines.filter(status=BulkJobLine.Status.READY).update(
            status=BulkJobLine.Status.FAILED, reason=str(_("The job was cancelled."))
        )
        job.status, job.finished_at = BulkJob.Status.CANCELLED, timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record(actor=user, action="fleet.job_cancel", obj=job)
    return job


# Step 2: pay ----------------------------------------------------------------------------------


def funding_open(job: BulkJob) -> bool:
    """Whether the job's card payment is paid or may still be (nothing else may change the job)."""
    if job.funding_id is None:
        return False

    funding = Order.objects.get(pk=job.funding_id)
    return (
        funding.status == Order.Status.PAID
        or funding.payments.filter(
            status__in=[Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION, Payment.Status.UNKNOWN]
        ).exists()
    )


def bulk_job_pay(*, job: BulkJob, user, pay_with: PayWith, return_url: str = ""):
    """Pay the batch once: from the business's wallet if it covers the whole batch (``pay_with``
    with no card), else one card charge (a saved method or a card typed now) of the batch's total
    into the wallet, which then pays each line. Returns the card payment (None for the wallet)."""
    require_admin(user, job.customer)

    card = pay_with.card is not None or pay_with.saved_method is not None or bool(pay_with.provider_wallet)
    with transaction.atomic():
        job = BulkJob.objects.select_for_update(of=("self",)).select_related("customer").get(pk=job.pk)
        if job.status != BulkJob.Status.AWAITING_PAYMENT or funding_open(job):
            raise JobNotPayable()
        if job.checked_at < timezone.now() - JOB_PAYABLE_FOR:
            raise JobPricesExpired()
        nothing_left = not _still_payable(job)
    if nothing_left:
        raise FleetRefused(_("None of these lines can be renewed any more. Nothing was charged."))
    with transaction.atomic():
        job = BulkJob.objects.select_for_update(of=("self",)).select_related("customer").get(pk=job.pk)
        if job.status != BulkJob.Status.AWAITING_PAYMENT or funding_open(job):
            raise JobNotPayable()
        if not card or job.total == 0:
            if wallet_balance(job.customer, job.currency) < job.total:
                raise WalletTooLow()
            job.status = BulkJob.Status.APPLYING
            job.save(update_fields=["status"])
            audit_record(
                actor=user, action="fleet.job_pay", obj=job, data={"method": "wallet", "total": str(job.total)}
            )
            bulk_job_apply.enqueue(job.pk)
            return None
        funding = job.funding
        if funding is not None and funding.total != job.total:
            # An earlier attempt failed, and lines dropped out since: that amount is no longer due.
            Order.objects.filter(pk=funding.pk).exclude(status=Order.Status.PAID).update(status=Order.Status.CANCELLED)
            funding = None
        if funding is None:
            market = (
                job.lines.filter(status=BulkJobLine.Status.READY).select_related("line__market").first().line.market
            )
            funding = order_create_topup(
                customer=job.customer,
                market=market,
                amount=job.total,
                idempotency_key=f"bulk:{job.pk}:{job.round}:funding:{job.total}",
                language=job.language,
                actor=user,
                bulk_job=job,
            )
            job.funding = funding
            job.save(update_fields=["funding"])
        audit_record(actor=user, action="fleet.job_pay", obj=job, data={"method": "card", "total": str(job.total)})
    # The card is charged outside the transaction; its success pays the funding order, whose
    # fulfilment enqueues the apply step (whichever path settles it: here, the bank's return,
    # the provider's webhook or reconciliation).
    return order_pay(order=funding, pay_with=PayWith(card=pay_with.card, saved_method=pay_with.saved_method,
                                                      provider_wallet=pay_with.provider_wallet),
                     actor=user, return_url=return_url)  # fmt: skip


def _still_payable(job: BulkJob) -> bool:
    """Just before the payment, check the ready lines again as the payment will (under their
    locks): a line that can no longer be renewed leaves the batch now, its order cancelled, so it
    is never in the charge. False when none is left (the job has failed then)."""
    rows = list(
        job.lines.filter(status=BulkJobLine.Status.READY).select_related(
            "order__line__market", "order__customer", "order__market"
        )
    )
    refusals = orders_payable_refusals([row.order for row in rows])
    dropped = [row for row in rows if row.order_id in refusals]
    if not dropped:
        return True
    with translation.override(job.language):
        for row in dropped:
            row.status, row.reason, row.amount = BulkJobLine.Status.FAILED, str(refusals[row.order_id]), None
    bulk_set(dropped, ["status", "reason", "amount"])
    cancel_orders([row.order_id for row in dropped])
    kept = [row for row in rows if row.order_id not in refusals]
    job.total = sum((row.amount for row in kept), Decimal(0))
    fields = ["total"]
    if not kept:
        job.status, job.reason, job.finished_at = BulkJob.Status.FAILED, "no_line", timezone.now()
        fields += ["status", "reason", "finished_at"]
    job.save(update_fields=fields)
    audit_record(actor=None, action="fleet.job_lines_dropped", obj=job, data={"lines": len(dropped)})
    if not kept:
        job_done_notice(job)
    return bool(kept)
