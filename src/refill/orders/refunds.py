"""Refunds: money back to the card and/or the wallet, with the plan's policy for the service."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.catalog.models import Plan
from refill.domain.money import quantize
from refill.errors import RefillError
from refill.events import emit
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import InsufficientFunds, account_for, entry_post, wallet_hold
from refill.lines.models import Line
from refill.lines.services import line_lapse_catch_up
from refill.payments.gateways import GatewayUnsupported
from refill.payments.models import Payment
from refill.payments.port import ChargeStatus, RefundRequest
from refill.payments.services import provider_refund, provider_refund_check
from refill.subscriptions.models import Bucket, Period
from refill.subscriptions.shifting import line_end_after_revoke, line_plan_after_revoke, periods_move_up

from .creditnotes import credit_note_issue, credit_notes_number
from .models import Order, OrderItem, Refund, RefundReason

logger = logging.getLogger(__name__)


class RefundRefused(RefillError):
    code = "refund_refused"
    message = _("This refund cannot be made: %(reason)s")


def refundable(order: Order) -> Decimal:
    done = order.refunds.filter(status__in=[Refund.Status.SUCCEEDED, Refund.Status.PENDING]).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
    return quantize(order.total - Decimal(done), order.currency)


def _order_periods(order: Order):
    return Period.objects.filter(order_item__order=order, revoked_at__isnull=True).order_by("start")


def _order_addon_buckets(order: Order):
    """The buckets an add-on order's pass granted (none for any other order)."""
    return Bucket.objects.filter(order_item__order=order, source=Bucket.Source.ADDON)


def _service_spans(order: Order) -> list[tuple[datetime, datetime, datetime | None]]:
    """The time the order bought, as (start, end, revoked_at) spans: its periods, or for an
    add-on pass the span its buckets share."""
    spans = [(p.start, p.end, p.revoked_at) for p in Period.objects.filter(order_item__order=order).order_by("start")]
    if spans:
        return spans
    span = _order_addon_buckets(order).aggregate(
        start=Min("valid_from"), end=Max("expires_at"), revoked=Min("revoked_at")
    )
    return [(span["start"], span["end"], span["revoked"])] if span["start"] is not None else []


def prorata_cap(order: Order, now: datetime) -> Decimal:
    """What may still be refunded under a pro-rata policy: the share of the order's bought time
    unused at ``now`` (or at the moment an earlier refund ended the service), less refunds made."""
    periods = _service_spans(order)
    total = sum((int((end - start).total_seconds()) for start, end, _ in periods), 0)
    if not total:
        return refundable(order)
    ended = [revoked for _, _, revoked in periods if revoked is not None]
    reference = min([now, *ended])
    unused = sum((max(int((end - max(start, reference)).total_seconds()), 0) for start, end, _ in periods), 0)
    share = quantize(order.total * Decimal(unused) / Decimal(total), order.currency)
    already = order.total - refundable(order)
    return max(min(share - already, refundable(order)), Decimal(0))


def _plan_policy(order: Order) -> str:
    item = order.items.select_related("plan").first()
    return item.plan.refund_policy if item and item.plan_id else Plan.RefundPolicy.KEEP


def order_refund(
    *,
    order: Order,
    amount,
    destination: str,
    idempotency_key: str,
    reason: str = "",
    reason_code: str = RefundReason.OTHER,
    note: str = "",
    actor=None,
    now=None,
) -> Refund:
    """Refund ``amount`` of a paid order once per key. Refunding more than was paid (counting
    earlier refunds), or refunding twice with one key, is refused.

    The customer is told ``reason_code`` (one of ``RefundReason``, in their language) and staff's
    ``note`` (shown as staff's own words); ``reason`` is the internal text for staff and the audit
    trail, made from the two when not given. "Other" needs a note or a reason."""
    now = now or timezone.now()
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.order_id != order.pk or existing.amount != Decimal(amount) or existing.destination != destination:
            raise RefundRefused(reason=_("this request was already used for a different refund"))
        return existing
    if reason_code not in RefundReason.values:
        raise RefundRefused(reason=_("choose a reason from the list"))
    note = " ".join(note.split())[:300]
    if reason_code == RefundReason.OTHER and not (note or reason.strip()):
        raise RefundRefused(reason=_("a reason is required"))
    if not reason.strip():
        with translation.override("en"):
            reason = str(RefundReason(reason_code).label) + (f": {note}" if note else "")
    if destination not in Refund.Destination.values:
        raise RefundRefused(reason=_("choose where the money goes"))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PAID:
            raise RefundRefused(reason=_("the order is not paid"))
        try:
            amount = Decimal(amount)
        except (ArithmeticError, TypeError, ValueError):
            raise RefundRefused(reason=_("the amount is not a number")) from None
        if not amount.is_finite() or amount <= 0 or quantize(amount, order.currency) != amount:
            raise RefundRefused(reason=_("the amount must be positive, in whole cents"))
        left = refundable(order)
        if amount > left:
            raise RefundRefused(reason=_("at most %(amount)s can still be refunded") % {"amount": left})
        is_topup = order.line_id is None
        if is_topup and destination == Refund.Destination.WALLET:
            raise RefundRefused(reason=_("a wallet top-up can only go back to how it was paid"))
        policy = _plan_policy(order)
        if policy == Plan.RefundPolicy.PRORATA and amount > prorata_cap(order, now):
            raise RefundRefused(
                reason=_("this plan refunds at most the unused share, %(amount)s") % {"amount": prorata_cap(order, now)}
            )
        if (
            destination == Refund.Destination.ORIGINAL
            and order.payments.filter(status=Payment.Status.SUCCEEDED, method=Payment.Method.CASH).exists()
        ):
            raise RefundRefused(reason=_("it was paid in cash: refund it to the wallet"))
        card_payment = order.payments.filter(status=Payment.Status.SUCCEEDED, method=Payment.Method.CARD).first()
        card_amount = Decimal(0)
        if destination == Refund.Destination.ORIGINAL and card_payment is not None:
            card_refunded = order.refunds.filter(status__in=["succeeded", "pending"]).aggregate(
                total=Sum("card_amount")
            )["total"] or Decimal(0)
            card_amount = min(amount, card_payment.amount - Decimal(card_refunded))
            if card_amount:
                try:
                    provider_refund_check(
                        gateway_name=card_payment.gateway, amount=card_amount, captured=card_payment.amount
                    )
                except GatewayUnsupported as exc:
                    raise RefundRefused(reason=_("the payment provider does not offer %(what)s") % exc.params) from None
        refund = Refund.objects.create(
            order=order,
            idempotency_key=idempotency_key,
            amount=amount,
            currency=order.currency,
            destination=destination,
            card_amount=card_amount,
            wallet_amount=amount - card_amount,
            reason=reason[:200],
            reason_code=reason_code,
            note=note,
            period_policy=policy,
            created_by=actor if getattr(actor, "is_staff", False) else None,
        )
        if is_topup:
            # The money must still be in the wallet: set it aside before the card is refunded.
            try:
                wallet_hold(
                    customer=order.customer,
                    currency=order.currency,
                    amount=amount,
                    key=f"refund:{refund.pk}:hold",
                    cause_id=refund.pk,
                    memo=f"held for refund {refund.pk}",
                )
            except InsufficientFunds:
                raise RefundRefused(reason=_("the wallet no longer holds this money")) from None
        audit_record(actor=actor, action="refund.start", obj=refund, reason=reason[:200], data={"amount": str(amount)})
    # The provider is called outside the transaction, after the attempt is recorded.
    result_status, reference = ChargeStatus.SUCCEEDED, ""
    if card_amount:
        try:
            result = provider_refund(
                gateway_name=card_payment.gateway,
                request=RefundRequest(
                    card_payment.provider_reference, card_amount, order.currency, f"refund_{uuid.uuid4().hex}"
                ),
                captured=card_payment.amount,
            )
            result_status, reference = result.status, result.provider_reference
        except Exception:
            # Unknown: the refund stays pending (and its hold in place) until reconciled; ledger_check
            # flags it after a day. Never retried blindly.
            logger.exception("refund %s: provider call failed", refund.pk)
            result_status, reference = ChargeStatus.UNKNOWN, ""
    refund = _refund_complete(refund=refund, status=result_status, reference=reference, actor=actor, now=now)
    credit_notes_number()  # the customer's credit note has its number before anyone sees it
    return refund


def _refund_complete(*, refund: Refund, status: str, reference: str, actor, now: datetime) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != Refund.Status.PENDING:
            return refund
        order = refund.order
        held = order.line_id is None
        if status != ChargeStatus.SUCCEEDED:
            if status == ChargeStatus.FAILED and held:
                wallet_hold(
                    customer=order.customer,
                    currency=order.currency,
                    amount=refund.amount,
                    key=f"refund:{refund.pk}:release",
                    cause_id=refund.pk,
                    memo=f"refund {refund.pk} failed",
                    release=True,
                )
            refund.status = Refund.Status.FAILED if status == ChargeStatus.FAILED else Refund.Status.PENDING
            refund.provider_reference = reference
            refund.save(update_fields=["status", "provider_reference"])
            audit_record(actor=actor, action="refund.failed", obj=refund)
            return refund
        # A top-up refund takes the money back out of the wallet; a sale refund is an expense.
        if held:
            debit = account_for(Account.Purpose.WALLET_HOLD, order.currency, customer=order.customer)
        else:
            debit = account_for(Account.Purpose.REFUNDS, order.currency)
        postings = [(debit, refund.amount)]
        if refund.card_amount:
            gateway_name = order.payments.get(status="succeeded", method="card").gateway
            postings.append(
                (account_for(Account.Purpose.CLEARING, order.currency, reference=gateway_name), -refund.card_amount)
            )
        if refund.wallet_amount:
            postings.append(
                (account_for(Account.Purpose.WALLET, order.currency, customer=order.customer), -refund.wallet_amount)
            )
        entry_post(
            key=f"refund:{refund.pk}",
            cause=JournalEntry.Cause.REFUND,
            cause_id=refund.pk,
            postings=postings,
            actor=actor,
            memo=f"refund of order {order.pk}: {refund.reason}"[:200],
        )
        refund.status = Refund.Status.SUCCEEDED
        refund.provider_reference = reference
        refund.save(update_fields=["status", "provider_reference"])
        # A full refund ends the service under "revoke"; under "pro-rata", refunding the whole
        # unused share does (a smaller goodwill refund leaves the service running).
        if (refund.period_policy == Plan.RefundPolicy.REVOKE and refundable(order) == 0) or (
            refund.period_policy == Plan.RefundPolicy.PRORATA and prorata_cap(order, now) == 0
        ):
            _revoke_service(order, now, refund=refund)
        credit_note_issue(refund=refund, now=now)
        audit_record(
            actor=actor,
            action="refund.succeeded",
            obj=refund,
            reason=refund.reason,
            data={"card": str(refund.card_amount), "wallet": str(refund.wallet_amount), "policy": refund.period_policy},
        )
        # The customer is told by the event's handler (notifications), after the commit.
        emit("order.refunded", line_id=order.line_id, customer_id=order.customer_id, order_id=order.pk,
             refund_id=refund.pk, amount=str(refund.amount), currency=order.currency)  # fmt: skip
    return refund


def _revoke_service(order: Order, now: datetime, *, refund: Refund) -> None:
    """What the order bought stops counting from ``now``: later periods entirely, the running one
    from now. Rows are marked, never deleted. Periods paid after the revoked ones move up so that
    the line's time has no hole (subscriptions/shifting.py), and the line's end and plan become
    what it really has left: the plan of its last period that still counts. An add-on pass ends
    its buckets instead (``_end_addon``)."""
    if order.line_id is None:
        return
    line = Line.objects.select_for_update(of=("self",)).select_related("market").get(pk=order.line_id)
    if order.items.filter(kind=OrderItem.Kind.ADDON).exists():
        _end_addon(order, now)
        return
    periods = list(_order_periods(order).filter(end__gt=now))
    for period in periods:
        period.revoked_at = max(now, period.start)
        period.save(update_fields=["revoked_at"])
        Bucket.objects.filter(period=period, revoked_at__isnull=True).update(revoked_at=period.revoked_at)
    periods_move_up(line=line, now=now)
    line.period_end = line_end_after_revoke(line, now)
    line.plan = line_plan_after_revoke(line)
    if line.next_plan_id == line.plan_id:
        line.next_plan = None
    line.save(update_fields=["period_end", "plan", "next_plan", "anchor_day"])
    # If that ended the line's paid time, its state follows now (grace, or further if its timers
    # have run out), not at the next sweep: the card must not say "Active" for a line that is not.
    line_lapse_catch_up(line=line, now=now, cause="refunded", reference=f"refund:{refund.pk}")


def _end_addon(order: Order, now: datetime) -> None:
    """An add-on pass's buckets end at ``now``: marked revoked (as a revoked period's are) and their
    expiry brought forward to ``now``, never deleted; what was used stays recorded. The line's end,
    plan and periods are untouched. (A bucket not yet started at ``now`` cannot expire before it
    starts: the revocation alone ends it.)"""
    buckets = _order_addon_buckets(order).filter(revoked_at__isnull=True, expires_at__gt=now)
    ids = list(buckets.values_list("pk", flat=True))
    Bucket.objects.filter(pk__in=ids).update(revoked_at=now)
    Bucket.objects.filter(pk__in=ids, valid_from__lt=now).update(expires_at=now)


def addon_undelivered_key(order_id: int) -> str:
    return f"addon-undelivered:{order_id}"


def addon_refund_undelivered(*, order_id: int, now: datetime | None = None):
    """Give back in full a paid add-on order that granted nothing (its line stopped running before
    its payment was confirmed): to the card or provider it was paid with, a wallet part to the
    wallet (cash to the wallet). Safe to call again: the refund's key is the order's."""
    order = Order.objects.get(pk=order_id)
    key = addon_undelivered_key(order.pk)
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    if order.status != Order.Status.PAID or Bucket.objects.filter(order_item__order=order).exists():
        return None  # granted after all, or not paid: nothing to give back here
    cash = order.payments.filter(status=Payment.Status.SUCCEEDED, method=Payment.Method.CASH).exists()
    return order_refund(
        order=order,
        amount=refundable(order),
        destination=Refund.Destination.WALLET if cash else Refund.Destination.ORIGINAL,
        reason_code=RefundReason.NOT_DELIVERED,  # the customer reads it in their language
        reason="add-on pass not delivered: the line stopped running before the payment was confirmed",
        idempotency_key=key,
        now=now,
    )
