"""Step 3 of a bulk renewal job (``services`` has steps 1 and 2): once the batch is paid, the lines'
orders are paid from the business's wallet and fulfilled, in chunks; a line that can no longer be
renewed fails and its order is cancelled; the money of every line not renewed goes back to the card
it came from. Safe to run twice or to resume after a crash (``bulk_jobs_resume``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from refill.audit.services import audit_record
from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.bulk import bulk_set
from refill.orders.models import Order, ReceiptSeries
from refill.orders.paying import orders_pay_wallet
from refill.orders.refunds import RefundRefused, order_refund
from refill.orders.services import receipts_number

from . import tasks
from .models import BulkJob, BulkJobLine
from .services import CHUNK, cancel_orders, job_done_notice, line_counts, unrenewed_amount

logger = logging.getLogger(__name__)


# Step 3: apply --------------------------------------------------------------------------------


def bulk_job_apply(*, job_id: int, now: datetime | None = None) -> BulkJob:
    """Renew the lines the batch's payment paid for (a chunk per transaction), then finish the
    job: invoice, refund of the lines not renewed, one email. Safe to run twice."""
    job = BulkJob.objects.get(pk=job_id)
    if job.action != BulkJob.Action.RENEW:
        return job
    if job.status == BulkJob.Status.AWAITING_PAYMENT:
        funded = job.funding_id and Order.objects.filter(pk=job.funding_id, status=Order.Status.PAID).exists()
        if not funded:
            return job
        BulkJob.objects.filter(pk=job.pk, status=BulkJob.Status.AWAITING_PAYMENT).update(status=BulkJob.Status.APPLYING)
    elif job.status != BulkJob.Status.APPLYING:
        _refund_unrenewed(job)
        return job
    with translation.override(job.language):
        while True:
            with transaction.atomic():
                job = BulkJob.objects.select_for_update().get(pk=job_id)
                if job.status != BulkJob.Status.APPLYING:
                    break
                chunk = list(
                    job.lines.filter(status=BulkJobLine.Status.READY)
                    .select_related("order__customer", "order__market", "order__line__market", "line")
                    .order_by("position")[:CHUNK]
                )
                if not chunk:
                    _apply_finish(job, now or timezone.now())
                    break
                _apply_chunk(job, chunk, now or timezone.now())
    receipts_number()
    job.refresh_from_db()
    _refund_unrenewed(job)
    return job


def _apply_chunk(job: BulkJob, chunk: list[BulkJobLine], now: datetime) -> None:
    answers = orders_pay_wallet(orders=[row.order for row in chunk], actor=job.created_by, now=now)
    refused = []
    for row in chunk:
        answer = answers.get(row.order_id)
        if isinstance(answer, RefillError):
            row.status, row.reason = BulkJobLine.Status.FAILED, str(answer)
            refused.append(row.order_id)
        else:
            row.status = BulkJobLine.Status.DONE
    cancel_orders(refused)
    ends = dict(Line.objects.filter(pk__in=[row.line_id for row in chunk]).values_list("pk", "period_end"))
    for row in chunk:
        if row.status == BulkJobLine.Status.DONE:
            row.period_end = ends.get(row.line_id)
    bulk_set(chunk, ["status", "reason", "period_end"])


def _apply_finish(job: BulkJob, now: datetime) -> None:
    renewed = job.lines.filter(status=BulkJobLine.Status.DONE).select_related("order__market").first()
    if renewed is not None:
        market = renewed.order.market
        code = f"INV-{market.code.upper()}-{now.astimezone(market.zone).year}"
        ReceiptSeries.objects.get_or_create(code=code)
        series = ReceiptSeries.objects.select_for_update().get(code=code)
        job.invoice_number = f"{code}-{series.next_number:06d}"
        series.next_number += 1
        series.save(update_fields=["next_number"])
        job.status = BulkJob.Status.DONE
    else:
        job.status, job.reason = BulkJob.Status.FAILED, "no_line"
    job.finished_at = now
    job.save(update_fields=["invoice_number", "status", "reason", "finished_at"])
    audit_record(
        actor=None,
        action="fleet.job_done",
        obj=job,
        data=line_counts(job) | {"invoice": job.invoice_number, "unrenewed": str(unrenewed_amount(job))},
    )
    job_done_notice(job)


def _refund_unrenewed(job: BulkJob) -> None:
    """Give back to the card what the card paid for lines that were not renewed (once)."""
    if job.funding_id is None or job.status not in (BulkJob.Status.DONE, BulkJob.Status.FAILED):
        return
    funding = Order.objects.get(pk=job.funding_id)
    amount = min(unrenewed_amount(job), funding.total)
    if funding.status != Order.Status.PAID or amount <= 0:
        return
    try:
        order_refund(
            order=funding,
            amount=amount,
            destination="original",
            reason=f"bulk job {job.pk}: lines not renewed",
            idempotency_key=f"bulk:{job.pk}:unrenewed",
        )
    except RefundRefused:
        logger.exception("bulk job %s: the refund of %s for lines not renewed was refused", job.pk, amount)


def bulk_jobs_resume(*, now: datetime | None = None) -> int:
    """Sweep: carry on jobs whose background step died (or whose payment was settled while no
    step was queued). Each step is safe to run twice."""
    now = now or timezone.now()
    quiet = now - timedelta(minutes=5)
    resumed = 0
    for job in BulkJob.objects.filter(status=BulkJob.Status.CHECKING, created_at__lt=quiet):
        tasks.bulk_job_check.enqueue(job.pk)
        resumed += 1
    # One query with OR, not a union of two querysets: BulkJob's default ordering puts an ORDER BY
    # in each half, which SQLite refuses inside a compound statement.
    stalled = BulkJob.objects.filter(
        Q(status=BulkJob.Status.APPLYING, created_at__lt=quiet)
        | Q(status=BulkJob.Status.AWAITING_PAYMENT, funding__status=Order.Status.PAID)
    ).order_by("pk")
    for job in stalled:
        tasks.bulk_job_apply.enqueue(job.pk)
        resumed += 1
    return resumed
