"""Whether an unpaid order may still be paid, and how it is shown to the customer.

An order stops being payable when it is too old to hold its price (``ORDER_PAYABLE_FOR``), when
it was cancelled, or when it was superseded: a payment for it was declined and the customer then
paid another order for the same line (or another top-up) made after it. Paying the declined one
too would be a double purchase, so it is refused, and the order history shows it as "not
completed" with a way to a fresh quote instead of its stale one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from refill.catalog.models import Plan
from refill.domain.lifecycle import LineStatus, is_renewable
from refill.domain.periods import prepaid_fits, prepaid_room
from refill.errors import RefillError
from refill.lines.models import Line
from refill.orders.errors import (
    AddonLineNotRunning,
    LineNotRenewable,
    OrderNotPayable,
    PaymentInProgress,
    PlanNotAvailable,
    PriceChanged,
    TooManyPeriods,
)
from refill.payments.models import Payment
from refill.promotions.models import Redemption
from refill.promotions.services import (
    redemptions_release,
)
from refill.subscriptions.grants import addon_line_running, periods_running
from refill.subscriptions.selectors import periods_ahead_of

from .batch import LINE_STATE, items_of, lock_fresh
from .creditnotes import orders_refund_summaries
from .models import Order, OrderItem
from .pricing import line_lapsed, price_lookup

ORDER_PAYABLE_FOR = timedelta(hours=24)
OPEN_PAYMENTS = [Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]
UNPAID = (Order.Status.AWAITING_PAYMENT, Order.Status.FAILED)


def periods_in_flight(order_ids: set[int]) -> dict[int, dict[int, int]]:
    """Of ``order_ids`` (orders with a payment being collected), the periods, bought and free, that
    each unpaid renewal would grant, by line and order. They count against the line's prepaid limit
    (docs/renewals.md), so two orders paid at the same time never take a line past it."""
    flight: dict[int, dict[int, int]] = {}
    for line_id, order_id, periods, free in (
        OrderItem.objects.filter(order_id__in=order_ids, kind=OrderItem.Kind.RENEWAL)
        .exclude(order__status=Order.Status.PAID)
        .values_list("order__line_id", "order_id", "periods", "free_periods")
    ):
        by_order = flight.setdefault(line_id, {})
        by_order[order_id] = by_order.get(order_id, 0) + periods + free
    return flight


def _later_paid(order: Order):
    """Paid orders made after ``order`` for the same thing: its line's renewals or add-ons of the
    same kind, or for a top-up the customer's later top-ups."""
    kind = order.items.values_list("kind", flat=True).first() or OrderItem.Kind.RENEWAL
    later = Order.objects.filter(status=Order.Status.PAID, created_at__gt=order.created_at, items__kind=kind)
    if order.line_id is not None:
        return later.filter(line_id=order.line_id)
    return later.filter(customer_id=order.customer_id, line__isnull=True)


def orders_superseded(orders: list[Order]) -> dict[int, Order]:
    """For each unpaid order with a declined payment, the later paid order that did what it was
    for (absent: not superseded)."""
    declined = Payment.objects.filter(order=OuterRef("pk"), status=Payment.Status.FAILED)
    candidates = Order.objects.filter(pk__in=[o.pk for o in orders if o.status in UNPAID]).filter(Exists(declined))
    found: dict[int, Order] = {}
    for order in candidates:
        later = _later_paid(order).select_related("receipt").order_by("created_at", "pk").first()
        if later is not None:
            found[order.pk] = later
    return found


def orders_no_longer_payable(orders: list[Order], now: datetime | None = None) -> set[int]:
    """The unpaid orders of ``orders`` that may no longer be paid: too old (by the clock and by
    ``now``, so a test's frozen clock and a stale tab both count), or superseded."""
    wall = timezone.now()
    now = now or wall
    stale = {
        order.pk
        for order in orders
        if order.created_at < wall - ORDER_PAYABLE_FOR and order.created_at < now - ORDER_PAYABLE_FOR
    }
    return stale | set(orders_superseded([order for order in orders if order.pk not in stale]))


def orders_display_state(orders: list[Order], now: datetime | None = None) -> dict[int, str]:
    """How each order is shown: its status, except "not_completed" for an unpaid order that can no
    longer be paid (and has no payment still in flight), "failed" for one still payable whose last
    attempt was declined (a payment app's decline leaves the order payable: "Awaiting payment" read
    as if the app were still asking), and "refunded" / "partly_refunded" for a paid one that was
    (orders/creditnotes.py)."""

    unpaid = [order for order in orders if order.status in UNPAID]
    last_status: dict[int, str] = {}
    in_flight = set()
    attempts = Payment.objects.filter(order_id__in=[o.pk for o in unpaid]).order_by("order_id", "pk")
    for order_id, status in attempts.values_list("order_id", "status"):
        last_status[order_id] = status  # the newest attempt's, by pk
        if status in OPEN_PAYMENTS:
            in_flight.add(order_id)
    dead = orders_no_longer_payable([o for o in unpaid if o.pk not in in_flight], now)
    refunds = orders_refund_summaries([order for order in orders if order.status == Order.Status.PAID])
    states = {}
    for order in orders:
        if order.pk in refunds:
            states[order.pk] = refunds[order.pk].state
        elif order.pk in dead:
            states[order.pk] = "not_completed"
        elif order.status in UNPAID and last_status.get(order.pk) == Payment.Status.FAILED:
            states[order.pk] = Order.Status.FAILED
        else:
            states[order.pk] = order.status
    return states


OPEN = [Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]


ABANDONED_ACTION_AFTER = timedelta(minutes=30)


STALE_PENDING_AFTER = timedelta(seconds=settings.REFILL_STALE_PENDING_AFTER)


def redemptions_release_stale(*, now: datetime | None = None) -> int:
    """Give back the promotions held by orders that can no longer be paid (abandoned past
    ORDER_PAYABLE_FOR, or cancelled) and have no payment in flight or taken. Safe to run twice."""
    now = now or timezone.now()
    stale = (
        Order.objects.filter(redemptions__status=Redemption.Status.HELD)
        .exclude(status=Order.Status.PAID)
        .filter(Q(status=Order.Status.CANCELLED) | Q(created_at__lt=now - ORDER_PAYABLE_FOR))
        .exclude(payments__status__in=[*OPEN, Payment.Status.SUCCEEDED])
        .values_list("pk", flat=True)
        .distinct()
    )
    with transaction.atomic():
        order_ids = list(
            Order.objects.select_for_update().filter(pk__in=list(stale)).order_by("pk").values_list("pk", flat=True)
        )
        # Checked again under the order locks: a payment may have started meanwhile.
        busy = set(
            Payment.objects.filter(order_id__in=order_ids, status__in=[*OPEN, Payment.Status.SUCCEEDED]).values_list(
                "order_id", flat=True
            )
        )
        return redemptions_release(order_ids=[pk for pk in order_ids if pk not in busy], now=now)


def payable_refusals(orders: list[Order], now: datetime) -> dict[int, RefillError]:
    """Why each of ``orders`` may not be paid now (orders absent from the answer may be): the
    checks made under the order locks before any money moves or is held, in a few queries however
    many orders there are. Locks the orders' lines, in primary-key order."""
    refusals: dict[int, RefillError] = {}
    wall = timezone.now()
    # Too old to pay yesterday's price, or declined and superseded by a later paid order.
    gone = orders_no_longer_payable(orders, now)
    for order in orders:
        if order.status not in (Order.Status.AWAITING_PAYMENT, Order.Status.FAILED) or order.pk in gone:
            refusals[order.pk] = OrderNotPayable()
    topups = [order for order in orders if order.line_id is None and order.pk not in refusals]
    if topups:
        # Top-ups: one open payment per customer at a time.
        busy = set(
            Payment.objects.filter(
                order__customer_id__in={order.customer_id for order in topups},
                order__line__isnull=True,
                status__in=OPEN,
            ).values_list("order__customer_id", flat=True)
        )
        refusals.update({order.pk: PaymentInProgress() for order in topups if order.customer_id in busy})
    # Orders for a line: renewals, and add-on passes (told apart by their item below).
    renewals = [order for order in orders if order.line_id is not None and order.pk not in refusals]
    if not renewals:
        return refusals
    lines = lock_fresh(Line, [order.line for order in renewals], LINE_STATE)
    line_ids = list(lines)
    # Invariant 4: no new attempt for a line while one of its payments is unknown, or pending so
    # long that its process probably died (a new order after a timeout must not charge again
    # before reconciliation knows what the first did). Another order's payment that is simply in
    # flight is allowed: its periods count against the prepaid limit below (``flight``).
    stale = wall - STALE_PENDING_AFTER
    doubtful: dict[int, set[int]] = {}
    open_orders = set()
    for order_id, line_id, status, created_at in Payment.objects.filter(
        order__line_id__in=line_ids, status__in=OPEN
    ).values_list("order_id", "order__line_id", "status", "created_at"):
        open_orders.add(order_id)
        if status == Payment.Status.UNKNOWN or (status == Payment.Status.PENDING and created_at < stale):
            doubtful.setdefault(line_id, set()).add(order_id)
    items = {pk: found[0] for pk, found in items_of(renewals).items()}
    # Whether a plan is still sold and how far ahead it may be paid: as they are now, not as the
    # plan object was read.
    plans = {
        pk: (active, limit)
        for pk, active, limit in Plan.objects.filter(pk__in={item.plan_id for item in items.values()}).values_list(
            "pk", "is_active", "max_prepaid_periods"
        )
    }
    ahead, flight = periods_ahead_of(line_ids, now), periods_in_flight(open_orders) if open_orders else {}
    price_of = price_lookup(now)
    # Add-on orders (a line, an ADDON item): the pass needs the line's period running now, and no
    # prepaid-periods limit applies.
    addon_lines = {order.line_id for order in renewals if items[order.pk].kind == OrderItem.Kind.ADDON}
    if addon_lines:
        running_periods = periods_running(addon_lines, now)
    for order in renewals:
        assert order.line_id is not None  # only orders for a line are here
        line, item = lines[order.line_id], items[order.pk]
        addon = item.kind == OrderItem.Kind.ADDON
        if doubtful.get(line.pk, set()) - {order.pk} or order.pk in open_orders:
            refusals[order.pk] = PaymentInProgress()
            continue
        if addon and not addon_line_running(line, running_periods.get(line.pk), now):
            refusals[order.pk] = AddonLineNotRunning()
            continue
        if not addon and not is_renewable(LineStatus(line.status)):
            refusals[order.pk] = LineNotRenewable()
            continue
        assert item.plan_id is not None  # renewals and add-ons name the plan they sell
        active, limit = plans[item.plan_id]
        if not active:
            refusals[order.pk] = PlanNotAvailable()
            continue
        current = price_of(item.plan, order.currency)
        if current is None or current.pk != item.plan_price_id:
            refusals[order.pk] = PriceChanged()
            continue
        if addon:
            continue
        others = sum(n for pk, n in flight.get(line.pk, {}).items() if pk != order.pk)
        room = prepaid_room(limit=limit, ahead=ahead.get(line.pk, 0), lapsed=line_lapsed(line, now), in_flight=others)
        # Free periods count too: an order whose promotion gives more than there is room for now
        # (another order was paid meanwhile) is not paid; a new one is priced for the room left.
        if not prepaid_fits(periods=item.periods, free=item.free_periods, room=room):
            refusals[order.pk] = TooManyPeriods(limit=limit, allowed=room)
    return refusals


def orders_payable_refusals(orders: list[Order], now: datetime | None = None) -> dict[int, RefillError]:
    """Why each of ``orders`` may not be paid now: the checks every payment makes before money
    moves, for a caller that wants to know before it charges anything (a business's bulk job).
    Locks the orders' lines; call it inside a transaction."""
    return payable_refusals(orders, now or timezone.now())


def payable_check(order: Order, now: datetime) -> None:
    """The checks made under the order lock before any money moves (or is held)."""
    refusal = payable_refusals([order], now).get(order.pk)
    if refusal is not None:
        raise refusal
