"""Whether an unpaid order may still be paid, and how it is shown to the customer.

An order stops being payable when it is too old to hold its price (``ORDER_PAYABLE_FOR``), when
it was cancelled, or when it was superseded: a payment for it was declined and the customer then
paid another order for the same line (or another top-up) made after it. Paying the declined one
too would be a double purchase, so it is refused, and the order history shows it as "not
completed" with a way to a fresh quote instead of its stale one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from refill.payments.models import Payment

from .models import Order, OrderItem

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
    longer be paid (and has no payment still in flight), and "refunded" / "partly_refunded" for a
    paid one that was (orders/creditnotes.py)."""
    from .creditnotes import orders_refund_summaries

    unpaid = [order for order in orders if order.status in UNPAID]
    in_flight = set(
        Payment.objects.filter(order_id__in=[o.pk for o in unpaid], status__in=OPEN_PAYMENTS).values_list(
            "order_id", flat=True
        )
    )
    dead = orders_no_longer_payable([o for o in unpaid if o.pk not in in_flight], now)
    refunds = orders_refund_summaries([order for order in orders if order.status == Order.Status.PAID])
    states = {}
    for order in orders:
        if order.pk in refunds:
            states[order.pk] = refunds[order.pk].state
        elif order.pk in dead:
            states[order.pk] = "not_completed"
        else:
            states[order.pk] = order.status
    return states
