"""Fulfilment: what a paid order grants, written in one transaction (periods and buckets through
subscriptions.grants, the lines moved on, the ledger entries, the receipt, the audit row) and one
``order.paid`` event per order for its subscribers (docs/events.md).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from refill.audit.services import audit_event, audit_records
from refill.catalog.models import Plan
from refill.domain.lifecycle import LineStatus, status_after_renewal
from refill.domain.periods import ValidityKind
from refill.events import emit_many
from refill.ledger.models import JournalEntry
from refill.ledger.services import (
    entries_post,
)
from refill.lines.models import Line
from refill.lines.services import line_changes_save, line_move
from refill.ops.bulk import bulk_insert, bulk_set, unsaved
from refill.orders.models import Order, OrderItem
from refill.orders.services import receipts_issue
from refill.payments.models import Payment
from refill.promotions.services import (
    redemptions_redeem,
)
from refill.subscriptions.grants import (
    addon_pass_buckets,
    period_grant,
    periods_running,
    promotion_buckets,
    roll_over_stored,
)
from refill.subscriptions.models import Bucket, Period

from .accounting import Accounts, capture_spec, promotion_specs
from .batch import LINE_STATE, items_of, lock_fresh
from .pricing import line_lapsed, spans_for
from .refunds import addon_refund_undelivered

logger = logging.getLogger(__name__)


def order_fulfil_paid(*, order_id: int, actor=None, now: datetime | None = None) -> bool:
    """Fulfil an order whose successful payments cover its total. Idempotent; True once paid."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.PAID:
            return True
        payments = list(order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk"))
        if sum((p.amount for p in payments), Decimal(0)) != order.total:
            return False
        order_fulfil(order=order, payments=payments, actor=actor, now=now)
        return True


def order_fulfil(*, order: Order, payments: list[Payment], actor=None, now: datetime | None = None) -> None:
    """Grant what a paid order bought (``orders_fulfil`` with one order)."""
    orders_fulfil(paid=[(order, payments)], actor=actor, now=now)


def orders_fulfil(*, paid: list[tuple[Order, list[Payment]]], actor=None, now: datetime | None = None) -> None:
    """Grant what paid orders bought: periods and buckets, the lines moved on, the capture entry,
    the receipt, the audit row and the confirmation email, in a few statements however many orders
    there are. Called inside the payment transaction with the orders locked (lines are locked
    here, in primary-key order); the (order_item, sequence) constraint makes a second grant
    impossible, and (order_item, kind) on buckets does the same for an add-on pass, which grants
    buckets on the running period and leaves the line itself as it is (renewals/addons.py).
    Orders already paid are left alone."""
    now = now or timezone.now()
    paid = [(order, payments) for order, payments in paid if order.status != Order.Status.PAID]
    if not paid:
        return
    items = items_of([order for order, _ in paid])
    renewed = [
        order.line
        for order, _ in paid
        if order.line is not None and any(i.kind == OrderItem.Kind.RENEWAL for i in items[order.pk])
    ]
    addons = [order for order, _ in paid if any(i.kind == OrderItem.Kind.ADDON for i in items[order.pk])]
    # Add-on lines are locked with the renewed ones (one primary-key order), but only renewed lines
    # are moved on: an add-on never changes its line's end, plan or status.
    locked = lock_fresh(Line, renewed + [order.line for order in addons], LINE_STATE) if renewed or addons else {}
    renewed_ids = {line.pk for line in renewed}
    lines = {pk: line for pk, line in locked.items() if pk in renewed_ids}
    line_ids = list(lines)
    periods: list[Period] = []
    buckets: list[Bucket] = []
    granted: dict[tuple[int, datetime], list[Bucket]] = {}
    first_new: dict[int, Period] = {}
    order_periods: dict[int, list[Period]] = {}
    activated: list[int] = []  # new eSIM lines paid for the first time
    for order, _ in paid:
        for item in items[order.pk]:
            if item.kind != OrderItem.Kind.RENEWAL:
                continue
            assert order.line_id is not None and item.plan is not None  # a renewal names its line and plan
            line, plan = lines[order.line_id], item.plan
            spans = spans_for(line, plan, item.periods + item.free_periods, now)
            if plan.validity_kind == ValidityKind.DAYS:
                line.anchor_day = None
            elif line_lapsed(line, now) or line.anchor_day is None:
                line.anchor_day = spans[0].start.astimezone(line.market.zone).day
            for sequence, span in enumerate(spans, start=1):
                period = unsaved(
                    Period, line=line, plan=plan, order_item=item, sequence=sequence, start=span.start, end=span.end
                )
                first_new.setdefault(line.pk, period)
                order_periods.setdefault(order.pk, []).append(period)
                periods.append(period)
                buckets += period_grant(line, plan, period, granted)
            if line.period_end is None or spans[-1].end > line.period_end:
                line.period_end = spans[-1].end
            # A guest's gift grants its periods but never chooses the owner's plan: what the renew
            # page offers and auto-renew buys next stays the owner's choice.
            if order.payer != Order.Payer.GUEST:
                line.plan = plan
                if line.next_plan_id == plan.pk:
                    line.next_plan = None  # the plan change it waited for is done
    bulk_insert(periods)
    roll_over_stored(first_new)
    redeemed = redemptions_redeem(order_ids=list(order_periods), now=now) if order_periods else []
    buckets += promotion_buckets(redeemed, order_periods, lines, {o.pk: o for o, _ in paid}, now)
    if addons:
        # After the periods are written: a pass hangs on the period running now.
        buckets += _addon_buckets(addons, items, locked, now)
    bulk_insert(buckets)
    if lines:
        # A line whose period running now is a "keep my number" one is retained, else active.
        current = {p.line_id: p.plan for p in periods if p.start <= now < p.end}
        for period in Period.objects.filter(line_id__in=line_ids, start__lte=now, end__gt=now).select_related("plan"):
            current.setdefault(period.line_id, period.plan)
        changes = []
        for order, _ in paid:
            line = lines.get(order.line_id) if order.line_id is not None else None  # a top-up has none
            if line is None:
                continue
            running = current.get(line.pk)
            target = status_after_renewal(keeps_number_only=running is not None and running.kind == Plan.Kind.RETENTION)
            change = line_move(line=line, target=target, cause="renewal", reference=f"order:{order.pk}")
            if change is not None:
                changes.append(change)
                if change.from_status == LineStatus.PENDING and line.sim_type == Line.SimType.ESIM:
                    activated.append(line.pk)
        line_changes_save(changes)
        bulk_set(list(lines.values()), ["status", "status_changed_at", "period_end", "anchor_day", "plan", "next_plan"])
    Order.objects.filter(pk__in=list(items)).update(status=Order.Status.PAID, paid_at=now)
    for order, _ in paid:
        order.status, order.paid_at = Order.Status.PAID, now
    wallet_payments = [p.pk for _, payments in paid for p in payments if p.method == Payment.Method.WALLET]
    held = (
        set(
            JournalEntry.objects.filter(
                idempotency_key__in=[f"payment:{pk}:hold" for pk in wallet_payments]
            ).values_list("idempotency_key", flat=True)
        )
        if wallet_payments
        else set()
    )
    accounts = Accounts()
    specs = [capture_spec(order, payments, items[order.pk], held, accounts, actor) for order, payments in paid]
    specs += promotion_specs(redeemed, {o.pk: o for o, _ in paid}, items, accounts, actor)
    entries_post([spec for spec in specs if spec is not None])
    receipts = receipts_issue(orders=[order for order, _ in paid], now=now)
    events = []
    for (order, payments), receipt in zip(paid, receipts, strict=True):
        line = locked.get(order.line_id) if order.line_id is not None else None
        events.append(
            audit_event(
                actor=actor or order.customer,
                action="order.paid",
                obj=order,
                data={
                    "payments": [payment.pk for payment in payments],
                    "receipt_series": receipt.series_id,
                    "period_end": line.period_end.isoformat() if line else None,
                },
            )
        )
    audit_records(events)
    # One "order.paid" event per order, in this transaction; its handlers (the confirmation or the
    # gift notice, a business's bulk job, a new eSIM line's profile, partner webhooks) subscribe in
    # their own apps and run after the commit: fulfilment knows none of them (docs/events.md).
    activated_ids = set(activated)
    emit_many(
        "order.paid",
        [
            {"line_id": order.line_id, "customer_id": order.customer_id, "order_id": order.pk,
             "payer": order.payer, "bulk_job_id": order.bulk_job_id,
             "msisdn": locked[order.line_id].msisdn if order.line_id in locked else None,
             "total": str(order.total), "currency": order.currency, "paid_at": now,
             "esim_activated": order.line_id in activated_ids}
            for order, _ in paid
        ],
        now=now,
    )  # fmt: skip


def _addon_buckets(orders: list[Order], items: dict[int, list[OrderItem]], lines: dict[int, Line], now) -> list:
    """The buckets paid add-on orders grant (unsaved), for ``orders_fulfil``: each pass's
    allowances from now until the line's running period ends (or the pass's validity, if
    sooner), hung on that period so that anything ending the period ends the pass too. A line
    with no running period any more (it lapsed, or a refund revoked it, while a card payment was
    being confirmed) cannot take the pass: its order grants nothing and is refunded in full as soon
    as the payment is committed (``orders.refunds.addon_refund_undelivered``)."""
    running = periods_running({order.line_id for order in orders}, now)
    new = []
    for order in orders:
        assert order.line_id is not None  # an add-on is bought for a line
        line = lines[order.line_id]
        period = running.get(line.pk)
        if period is None:
            # The money is kept as paid (receipt, capture) only to give it back through the one
            # refund path, with its credit note; never charged without the pass.
            transaction.on_commit(partial(_refund_undelivered_safely, order.pk, now))
            continue
        for item in items[order.pk]:
            if item.kind != OrderItem.Kind.ADDON:
                continue
            new += addon_pass_buckets(line, period, item, now)
    return new


def _refund_undelivered_safely(order_id: int, now: datetime) -> None:
    # After the payment's commit: a refund that fails here must not turn the recorded payment
    # into an error for its caller. ledger_check flags the order until it is refunded.
    try:
        addon_refund_undelivered(order_id=order_id, now=now)
    except Exception:
        logger.exception("add-on order %s: the refund of a pass that could not be delivered failed", order_id)
