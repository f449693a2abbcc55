"""What notifications do when something happens elsewhere (domain events, refill.events): they
subscribe in NotificationsConfig.ready()."""

from __future__ import annotations

from refill.events.models import Event
from refill.orders.models import Order

from .reminders import usage_notices_for
from .tasks import send_order_confirmations, send_refund_notice


def on_order_paid(events: list[Event]) -> None:
    """The customer's own orders get their confirmation (sent by a task, once per order). A gift's
    owner is told by the gift handler instead, and a business's bulk job tells the business once,
    with its invoice, when the job is done."""
    own = [
        event.payload["order_id"]
        for event in events
        if event.payload["payer"] == Order.Payer.OWNER and event.payload["bulk_job_id"] is None
    ]
    if own:
        send_order_confirmations.enqueue(own)


def on_order_refunded(events: list[Event]) -> None:
    """Money is on its way back: the customer is told (a task, once per refund)."""
    for event in events:
        send_refund_notice.enqueue(event.payload["refund_id"])


def own_orders(events: list[Event]) -> list[Event]:
    """The ``order.paid`` events this app acts on (its subscription's filter)."""
    return [e for e in events if e.payload["payer"] == Order.Payer.OWNER and e.payload["bulk_job_id"] is None]


def on_bucket_threshold_crossed(events: list[Event]) -> None:
    """A bucket crossed 75 %, 90 % or 100 % as usage was applied: the customer's usage notice is owed
    (once per bucket and threshold), as of the moment the usage was applied."""
    for created_at in sorted({event.created_at for event in events}):
        usage_notices_for([e.payload["bucket_id"] for e in events if e.created_at == created_at], now=created_at)
