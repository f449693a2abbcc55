"""Settling payment attempts: the provider's answer applied (on the call, from its webhook, or by
reconciliation), an attempt left open resumed, and a paid order handed to fulfilment.

Money safety (architecture.md): the order is written first; the payment attempt is recorded and
committed before the provider is called; the provider is called outside any row lock; the result,
the periods, the buckets, the receipt, the audit row and the confirmation task are written in one
transaction. Locks are taken order -> line, the same order everywhere.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from refill.audit.services import audit_event, audit_record, audit_records
from refill.ledger.services import (
    entries_post,
)
from refill.ops.bulk import bulk_set
from refill.orders.models import Order
from refill.orders.services import receipts_number
from refill.payments.models import Payment
from refill.payments.port import (
    ChargeResult,
    ChargeStatus,
)
from refill.payments.services import provider_cancel, provider_fetch
from refill.promotions.services import (
    redemptions_release,
)

from .accounting import Accounts, wallet_move
from .batch import ORDER_STATE, PAYMENT_STATE, lock_fresh
from .fulfilment import order_fulfil_paid, orders_fulfil
from .payable import ABANDONED_ACTION_AFTER, OPEN, STALE_PENDING_AFTER
from .tasks import fulfil_paid_order

logger = logging.getLogger(__name__)


def payment_complete(*, payment: Payment, result: ChargeResult, actor=None, now: datetime | None = None) -> Payment:
    """Settle one card attempt with the provider's answer (``payments_complete`` with one)."""
    return payments_complete(results=[(payment, result)], actor=actor, now=now)[0]


def payments_complete(
    *, results: list[tuple[Payment, ChargeResult]], actor=None, now: datetime | None = None
) -> list[Payment]:
    """Settle card attempts with the provider's answers, in one transaction however many: a
    success marks its held wallet part paid too and fulfils the order in the same transaction; a
    failure gives the wallet part back; an attempt waiting for the customer's bank keeps its hold;
    no answer leaves it unknown for reconciliation. An attempt already settled is left as it is,
    so a late or repeated answer changes nothing. If fulfilment fails, the charges stay recorded
    and a task per order finishes it (ledger_check flags any it cannot)."""

    answered: list[Payment] = []
    unfulfilled: list[int] = []
    with transaction.atomic():
        orders = lock_fresh(Order, [payment.order for payment, _ in results], ORDER_STATE)
        order_ids = list(orders)
        locked = lock_fresh(Payment, [payment for payment, _ in results], PAYMENT_STATE)
        held: dict[int, list[Payment]] = {}
        for wallet_payment in Payment.objects.filter(
            order_id__in=order_ids, method=Payment.Method.WALLET, status=Payment.Status.PENDING
        ).order_by("pk"):
            held.setdefault(wallet_payment.order_id, []).append(wallet_payment)
        accounts = Accounts()
        changed, releases, events, paid, failed = [], [], [], [], []
        for given, result in results:
            payment = locked[given.pk]
            answered.append(payment)
            if payment.is_terminal:
                continue
            order = orders[payment.order_id]
            changed.append(payment)
            payment.provider_reference = result.provider_reference or payment.provider_reference
            if result.status == ChargeStatus.REQUIRES_ACTION:
                # The customer confirms with their bank first; the wallet part stays held meanwhile.
                payment.status = Payment.Status.REQUIRES_ACTION
                payment.action_url = result.next_url or payment.action_url
            elif result.status == ChargeStatus.SUCCEEDED:
                payment.status = Payment.Status.SUCCEEDED
                payment.completed_at = timezone.now()
                wallet_parts = held.pop(order.pk, [])
                for wallet_payment in wallet_parts:
                    wallet_payment.status = Payment.Status.SUCCEEDED
                    wallet_payment.completed_at = payment.completed_at
                changed += wallet_parts
                paid.append((order, [*wallet_parts, payment]))
            elif result.status == ChargeStatus.FAILED:
                payment.status = Payment.Status.FAILED
                payment.decline_code = result.decline_code or ""
                payment.completed_at = timezone.now()
                failed.append(order.pk)
                for wallet_payment in held.pop(order.pk, []):
                    releases.append(wallet_move(wallet_payment, order, accounts, release=True))
                    wallet_payment.status = Payment.Status.FAILED
                    wallet_payment.decline_code = payment.decline_code
                    wallet_payment.completed_at = payment.completed_at
                    changed.append(wallet_payment)
                events.append(
                    audit_event(
                        actor=actor or order.customer, action="payment.failed", obj=payment, reason=payment.decline_code
                    )
                )
            else:
                # The wallet hold stays until reconciliation knows what the card did.
                payment.status = Payment.Status.UNKNOWN
                events.append(audit_event(actor=actor or order.customer, action="payment.unknown", obj=payment))
        bulk_set(changed, PAYMENT_STATE)
        entries_post(releases)
        if failed:
            # The promotions an unpaid order held go back; paying it again takes them again.
            redemptions_release(order_ids=failed)
        audit_records(events)
        # Paid orders are fulfilled in the same transaction; a fulfilment that fails is rolled back
        # on its own, never the recorded charges, and left to a task (enqueued with them).
        whole, unfulfilled = [], []
        for order, payments in paid:
            if sum(p.amount for p in payments) == order.total:
                whole.append((order, payments))
            else:
                unfulfilled.append(order.pk)
        try:
            with transaction.atomic():
                orders_fulfil(paid=whole, actor=actor, now=now)
        except Exception:
            logger.exception("orders %s: fulfilment failed after payment; a task will retry", [o.pk for o, _ in whole])
            unfulfilled += [order.pk for order, _ in whole]
        for order_id in unfulfilled:
            fulfil_paid_order.enqueue(order_id)
    for order_id in unfulfilled:
        try:
            order_fulfil_paid(order_id=order_id, actor=actor, now=now)
        except Exception:
            # The money is recorded; the enqueued task (and ledger_check) make sure the order is
            # fulfilled or flagged. Never roll the recorded charge back.
            logger.exception("order %s: fulfilment failed after payment; the task will retry", order_id)
    return answered


RECONCILE_BACKOFF = [timedelta(minutes=minutes) for minutes in (1, 2, 5, 10, 30, 60)]


def payments_reconcile(*, now: datetime | None = None, batch: int = 200) -> int:
    """Ask the provider about card attempts left unknown, or pending so long that their process
    must have died, and settle them exactly as if the answer had come back in time: a success is
    fulfilled once, a failure releases any wallet hold. Unanswered ones are asked again later, at
    growing intervals (1, 2, 5, 10, 30, then every 60 minutes). Safe to run twice or on two machines:
    settling goes through payment_complete, which locks the payment and ignores a settled one."""

    now = now or timezone.now()
    due = (
        Payment.objects.filter(method=Payment.Method.CARD)
        .filter(
            Q(status=Payment.Status.UNKNOWN)
            | Q(status=Payment.Status.PENDING, created_at__lt=now - STALE_PENDING_AFTER)
            | Q(status=Payment.Status.REQUIRES_ACTION, created_at__lt=now - ABANDONED_ACTION_AFTER)
        )
        .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
        .order_by("pk")[:batch]
    )
    settled = 0
    for payment in due:
        try:
            if payment.status == Payment.Status.REQUIRES_ACTION:
                # Abandoned at the bank's confirmation step: cancel it, so a late confirmation fails.
                result = provider_cancel(payment=payment)
            else:
                result = provider_fetch(payment=payment)
        except Exception:
            logger.exception("payment %s: the provider did not answer the status request", payment.pk)
            result = ChargeResult(ChargeStatus.UNKNOWN)
        if result.status == ChargeStatus.REQUIRES_ACTION and payment.status != Payment.Status.REQUIRES_ACTION:
            # The answer that would have sent the customer on was lost, and the provider is still
            # waiting for them (a bank's page, an Alipay or WeChat Pay payment): the attempt waits
            # again, the customer can go on from the order's page, and if nobody does it is
            # cancelled after ABANDONED_ACTION_AFTER like any other.
            Payment.objects.filter(pk=payment.pk).update(reconcile_attempts=F("reconcile_attempts") + 1)
            payment_complete(payment=payment, result=result, now=now)
            continue
        if result.status in (ChargeStatus.UNKNOWN, ChargeStatus.REQUIRES_ACTION):
            delay = RECONCILE_BACKOFF[min(payment.reconcile_attempts, len(RECONCILE_BACKOFF) - 1)]
            Payment.objects.filter(pk=payment.pk, status__in=OPEN).update(
                status=Payment.Status.UNKNOWN,
                reconcile_attempts=F("reconcile_attempts") + 1,
                next_check_at=now + delay,
            )
            continue
        Payment.objects.filter(pk=payment.pk).update(reconcile_attempts=F("reconcile_attempts") + 1)
        completed = payment_complete(payment=payment, result=result, now=now)
        audit_record(actor=None, action="payment.reconciled", obj=completed, reason=completed.status)
        settled += 1
    if settled:
        receipts_number()
    return settled


def payment_resume(*, payment: Payment, actor=None) -> Payment:
    """The customer is back from their bank's confirmation step: ask the provider how it ended and
    settle the attempt (still waiting is a fine answer too)."""
    return payment_follow(payment=payment, actor=actor)[0]


def payment_follow(*, payment: Payment, actor=None) -> tuple[Payment, ChargeResult | None]:
    """``payment_resume``, with the provider's answer: while the customer still has to act, what
    they act on (WeChat Pay's QR code, which a page keeps showing while it follows the payment).
    The answer is None when the attempt was not waiting or the provider did not answer."""

    if payment.status != Payment.Status.REQUIRES_ACTION:
        return payment, None
    try:
        result = provider_fetch(payment=payment)
    except Exception:
        logger.exception("payment %s: the provider did not answer after the confirmation step", payment.pk)
        return payment, None
    if result.status == ChargeStatus.REQUIRES_ACTION:
        return payment, result
    payment = payment_complete(payment=payment, result=result, actor=actor)
    receipts_number()
    return payment, result


def payment_abandon(*, payment: Payment, actor=None) -> Payment:
    """The customer gave up on an attempt still waiting for them (a QR code they will not scan):
    cancel it at the provider, so paying in the app later cannot charge, and settle it as the
    provider answers; one paid meanwhile stays paid."""

    if payment.status != Payment.Status.REQUIRES_ACTION:
        return payment
    try:
        result = provider_cancel(payment=payment)
    except Exception:
        logger.exception("payment %s: the provider did not answer the cancellation", payment.pk)
        return payment
    if result.status in (ChargeStatus.REQUIRES_ACTION, ChargeStatus.UNKNOWN):
        return payment
    payment = payment_complete(payment=payment, result=result, actor=actor)
    receipts_number()
    return payment
