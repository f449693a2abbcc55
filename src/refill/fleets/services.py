"""Bulk jobs over a business's lines, and its groups.

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

import csv
import io
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_event, audit_record, audit_records
from refill.catalog.models import Plan
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.domain.lifecycle import LineStatus, is_renewable
from refill.errors import RefillError
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.ops.bulk import bulk_insert, bulk_set, unsaved
from refill.ops.safetext import clean_text
from refill.orders.models import Order, ReceiptSeries
from refill.orders.services import receipts_number
from refill.renewals.errors import IdempotencyConflict, LineNotRenewable, PlanNotAvailable, WalletTooLow
from refill.renewals.services import (
    RENEWABLE_PLAN_KINDS,
    PayWith,
    RenewalRequest,
    order_create_topup,
    order_pay,
    orders_create_renewals,
    orders_pay_wallet,
)

from .models import BulkJob, BulkJobLine, FleetMember, GroupedLine, LineGroup

logger = logging.getLogger(__name__)

MAX_JOB_LINES = 5000
MAX_CSV_BYTES = 512 * 1024
CHUNK = 250
# A checked batch keeps its prices this long (its orders are payable for 24 hours).
JOB_PAYABLE_FOR = timedelta(hours=20)
# Numbers a line of the business may not be found by: numbers given back or ported away.
RELEASED = ("available", "ported_out")


class FleetRefused(RefillError):
    code = "fleet_refused"
    message = _("This cannot be done.")


class NotFleetAdmin(FleetRefused):
    code = "fleet_admin_only"
    message = _("Only an administrator of this business can do this.")


class JobNotPayable(FleetRefused):
    code = "bulk_job_not_payable"
    message = _("This job is not waiting for a payment.")


class JobPricesExpired(FleetRefused):
    code = "bulk_job_prices_expired"
    message = _("These prices were checked more than 20 hours ago. Check the lines again before paying.")


# Who may do what ------------------------------------------------------------------------------


def fleet_member(user) -> FleetMember | None:
    """The user's membership of a business fleet, or None (not a business's login)."""
    if not getattr(user, "is_authenticated", False) or user.customer_id is None:
        return None
    member = FleetMember.objects.filter(user=user).select_related("user__customer").first()
    if member is None or member.user.customer.kind != "business":
        return None
    return member


def _require_admin(user, customer) -> None:
    member = fleet_member(user)
    if member is None or member.role != FleetMember.Role.ADMIN or user.customer_id != customer.pk:
        raise NotFleetAdmin()


# Numbers --------------------------------------------------------------------------------------


def numbers_from_csv(data: bytes) -> list[str]:
    """The numbers of an uploaded CSV file: the column headed number/msisdn/phone, else the first
    column; a header row and empty rows are skipped."""
    if len(data) > MAX_CSV_BYTES:
        raise FleetRefused(_("The file is too large (at most 512 KB)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FleetRefused(_("The file must be a CSV file in UTF-8.")) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise FleetRefused(_("The file must be a CSV file in UTF-8.")) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in ("number", "msisdn", "phone") if name in header), None)
    if column is not None:
        rows = rows[1:]
    else:
        column = 0
        if rows and not any(ch.isdigit() for ch in rows[0][0]):
            rows = rows[1:]  # a header with another name
    # Control characters (a NUL in "+1202\x00555") are dropped as the cell is read, never stored.
    cells = (clean_text(row[column]).strip() for row in rows if len(row) > column)
    return [cell for cell in cells if cell]


def numbers_from_text(text: str) -> list[str]:
    """Numbers typed or pasted: one per line, or separated by commas or semicolons."""
    parts = clean_text(text, multiline=True).replace(";", "\n").replace(",", "\n").splitlines()
    return [part.strip() for part in parts if part.strip()]


def _fleet_lines(customer) -> tuple[dict[str, Line], list[str]]:
    """The business's lines by number, and the regions its numbers may be typed in."""
    lines = {
        line.msisdn: line
        for line in Line.objects.filter(owner=customer)
        .exclude(status__in=RELEASED)
        .select_related("market", "plan", "next_plan")
    }
    regions = sorted({line.market.region for line in lines.values() if line.market.region})
    return lines, regions


def _find(raw: str, lines: dict[str, Line], regions: list[str]) -> tuple[Line | None, str]:
    """The line a typed number means, or why there is none."""
    candidates = []
    for region in [None, *regions]:
        try:
            candidates.append(normalize_msisdn(raw, region))
        except InvalidIdentifier:
            continue
    if not candidates:
        return None, _("This is not a valid phone number.")
    for number in candidates:
        if number in lines:
            return lines[number], ""
    return None, _("This number is not one of your lines.")


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
    _require_admin(user, customer)
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
    from .tasks import bulk_job_check

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
            bulk_job_check.enqueue(job.pk)
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
    lines, regions = _fleet_lines(job.customer)
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
        line, why = _find(row.msisdn, lines, regions)
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
    from refill.renewals.autorenew import autorenew_update

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
            _tell(job)
    return job


def line_counts(job: BulkJob) -> dict[str, int]:
    counts = dict.fromkeys(BulkJobLine.Status.values, 0)
    counts.update(job.lines.order_by().values_list("status").annotate(count=Count("pk")).values_list("status", "count"))
    return counts


def bulk_job_recheck(*, job: BulkJob, user) -> BulkJob:
    """Price a job again whose prices are too old to pay: its unpaid orders are cancelled and its
    ready lines checked again (failed lines stay failed)."""
    _require_admin(user, job.customer)
    from .tasks import bulk_job_check

    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job.pk)
        if job.status != BulkJob.Status.AWAITING_PAYMENT or funding_open(job):
            raise JobNotPayable()
        ready = list(job.lines.filter(status=BulkJobLine.Status.READY))
        _cancel_orders([row.order_id for row in ready])
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
        bulk_job_check.enqueue(job.pk)
    return job


def _cancel_orders(order_ids: list[int]) -> None:
    from refill.promotions.services import redemptions_release

    ids = [pk for pk in order_ids if pk]
    if ids:
        Order.objects.filter(pk__in=ids).exclude(status=Order.Status.PAID).update(status=Order.Status.CANCELLED)
        redemptions_release(order_ids=ids)


def bulk_job_cancel(*, job: BulkJob, user) -> BulkJob:
    """Give up a job waiting for its payment: its orders are cancelled, nothing is charged."""
    _require_admin(user, job.customer)
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job.pk)
        if job.status != BulkJob.Status.AWAITING_PAYMENT or funding_open(job):
            raise JobNotPayable()
        ready = list(job.lines.filter(status=BulkJobLine.Status.READY))
        _cancel_orders([row.order_id for row in ready])
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
    from refill.payments.models import Payment

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
    _require_admin(user, job.customer)
    from .tasks import bulk_job_apply

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
    from refill.renewals.services import orders_payable_refusals

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
    _cancel_orders([row.order_id for row in dropped])
    kept = [row for row in rows if row.order_id not in refusals]
    job.total = sum((row.amount for row in kept), Decimal(0))
    fields = ["total"]
    if not kept:
        job.status, job.reason, job.finished_at = BulkJob.Status.FAILED, "no_line", timezone.now()
        fields += ["status", "reason", "finished_at"]
    job.save(update_fields=fields)
    audit_record(actor=None, action="fleet.job_lines_dropped", obj=job, data={"lines": len(dropped)})
    if not kept:
        _tell(job)
    return bool(kept)


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
    _cancel_orders(refused)
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
    _tell(job)


def unrenewed_amount(job: BulkJob) -> Decimal:
    """What the batch's card payment brought in for lines that were not renewed after all."""
    if job.funding_id is None:
        return Decimal(0)  # paid from the wallet: the lines not renewed never took its money
    total = job.lines.filter(status=BulkJobLine.Status.FAILED, order__isnull=False).aggregate(total=Sum("amount"))[
        "total"
    ]
    return total or Decimal(0)


def _refund_unrenewed(job: BulkJob) -> None:
    """Give back to the card what the card paid for lines that were not renewed (once)."""
    if job.funding_id is None or job.status not in (BulkJob.Status.DONE, BulkJob.Status.FAILED):
        return
    funding = Order.objects.get(pk=job.funding_id)
    amount = min(unrenewed_amount(job), funding.total)
    if funding.status != Order.Status.PAID or amount <= 0:
        return
    from refill.orders.refunds import RefundRefused, order_refund

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


def _tell(job: BulkJob) -> None:
    """One email to the business when a job is done (never one per line)."""
    from refill.notifications.services import notice

    notice(
        rule="fleet_job_done",
        subject_key=f"bulk_job:{job.pk}",
        customer=job.customer,
        context={"job": job, "counts": line_counts(job), "unrenewed": unrenewed_amount(job)},
        channels=("email",),
    )


def bulk_jobs_resume(*, now: datetime | None = None) -> int:
    """Sweep: carry on jobs whose background step died (or whose payment was settled while no
    step was queued). Each step is safe to run twice."""
    from .tasks import bulk_job_apply, bulk_job_check

    now = now or timezone.now()
    quiet = now - timedelta(minutes=5)
    resumed = 0
    for job in BulkJob.objects.filter(status=BulkJob.Status.CHECKING, created_at__lt=quiet):
        bulk_job_check.enqueue(job.pk)
        resumed += 1
    # One query with OR, not a union of two querysets: BulkJob's default ordering puts an ORDER BY
    # in each half, which SQLite refuses inside a compound statement.
    stalled = BulkJob.objects.filter(
        Q(status=BulkJob.Status.APPLYING, created_at__lt=quiet)
        | Q(status=BulkJob.Status.AWAITING_PAYMENT, funding__status=Order.Status.PAID)
    ).order_by("pk")
    for job in stalled:
        bulk_job_apply.enqueue(job.pk)
        resumed += 1
    return resumed


# Groups ---------------------------------------------------------------------------------------


def group_save(*, customer, user, name: str, group: LineGroup | None = None) -> LineGroup:
    _require_admin(user, customer)
    name = clean_text(name).strip()  # renamed from a raw form post: no form field cleans it
    if not name or len(name) > 60:
        raise FleetRefused(_("A group needs a name of at most 60 characters."))
    if LineGroup.objects.filter(customer=customer, name__iexact=name).exclude(pk=getattr(group, "pk", None)).exists():
        raise FleetRefused(_("There is already a group with this name."))
    with transaction.atomic():
        before = group.name if group else None
        if group is None:
            group = LineGroup.objects.create(customer=customer, name=name)
        else:
            group.name = name
            group.save(update_fields=["name"])
        audit_record(actor=user, action="fleet.group_save", obj=group, data={"before": before, "after": name})
    return group


def group_delete(*, group: LineGroup, user) -> None:
    _require_admin(user, group.customer)
    with transaction.atomic():
        audit_record(actor=user, action="fleet.group_delete", obj=group, data={"name": group.name})
        group.delete()


def lines_group(*, customer, user, line_ids: list[int], group: LineGroup | None) -> int:
    """Put the business's lines ``line_ids`` into ``group`` (None: out of any group)."""
    _require_admin(user, customer)
    if group is not None and group.customer_id != customer.pk:
        raise FleetRefused(_("There is no such group."))
    ids = list(Line.objects.filter(owner=customer, pk__in=line_ids).values_list("pk", flat=True))
    with transaction.atomic():
        GroupedLine.objects.filter(line_id__in=ids).delete()
        if group is not None:
            bulk_insert(unsaved(GroupedLine, line_id=pk, group=group) for pk in ids)
        audit_record(
            actor=user,
            action="fleet.lines_group",
            obj=group or customer,
            data={"lines": len(ids), "group": group.name if group else None},
        )
    return len(ids)


# People ---------------------------------------------------------------------------------------


def member_add(*, customer, user, email: str, role: str) -> FleetMember:
    """Give someone a login to the business's fleet, as administrator or viewer. They are sent an
    invitation to set their password (the password reset flow proves the address is theirs)."""
    from allauth.account.models import EmailAddress
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from refill.customers.models import User

    _require_admin(user, customer)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise FleetRefused(_("Enter a valid email address.")) from None
    if role not in FleetMember.Role.values:
        raise FleetRefused(_("Choose a role."))
    if User.objects.filter(email__iexact=email).exists():
        raise FleetRefused(_("This address already has a login. Ask your operator to move it to your business."))
    with transaction.atomic():
        login = User.objects.create_user(email, None, customer=customer)
        EmailAddress.objects.create(user=login, email=email, verified=False, primary=True)
        member = FleetMember.objects.create(user=login, role=role)
        audit_record(actor=user, action="fleet.member_add", obj=member, data={"email": email, "role": role})
        transaction.on_commit(lambda: _invite(member, user))
    return member


def _invite(member: FleetMember, inviter) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    customer = member.user.customer
    context = {
        "business": customer,
        "inviter": inviter.email or "",
        "email": member.user.email,
        "reset_url": f"{settings.REFILL_PUBLIC_URL}/accounts/password/reset/",
    }
    with translation.override(customer.preferred_language):
        context["role"] = str(member.get_role_display())
        subject = render_to_string("notifications/fleet_invite_subject.txt", context).strip()
        body = render_to_string("notifications/fleet_invite.txt", context)
    try:
        send_mail(subject, body, None, [member.user.email])
    except Exception:
        # The login exists; an administrator can invite again (or the person can reset the password).
        logger.exception("fleet member %s: the invitation could not be sent", member.pk)


def _lock_members(customer) -> None:
    """One change of the business's people at a time (so two cannot remove the last two admins)."""
    list(
        FleetMember.objects.select_for_update(of=("self",))
        .filter(user__customer=customer)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _admins_left(customer, without: FleetMember) -> int:
    return (
        FleetMember.objects.filter(user__customer=customer, user__is_active=True, role=FleetMember.Role.ADMIN)
        .exclude(pk=without.pk)
        .count()
    )


def member_set_role(*, member: FleetMember, user, role: str) -> FleetMember:
    customer = member.user.customer
    _require_admin(user, customer)
    if role not in FleetMember.Role.values:
        raise FleetRefused(_("Choose a role."))
    with transaction.atomic():
        _lock_members(customer)
        if role != FleetMember.Role.ADMIN and not _admins_left(customer, member):
            raise FleetRefused(_("A business keeps at least one administrator."))
        before = member.role
        member.role = role
        member.save(update_fields=["role"])
        audit_record(actor=user, action="fleet.member_role", obj=member, data={"before": before, "after": role})
    return member


def member_remove(*, member: FleetMember, user) -> None:
    """Take a person's access away: their login is closed (kept, for the audit trail)."""
    customer = member.user.customer
    _require_admin(user, customer)
    if member.user_id == user.pk:
        raise FleetRefused(_("You cannot remove yourself."))
    with transaction.atomic():
        _lock_members(customer)
        if member.role == FleetMember.Role.ADMIN and not _admins_left(customer, member):
            raise FleetRefused(_("A business keeps at least one administrator."))
        login = member.user
        login.is_active = False
        login.save(update_fields=["is_active"])
        audit_record(actor=user, action="fleet.member_remove", obj=member, data={"email": login.email})
        member.delete()
