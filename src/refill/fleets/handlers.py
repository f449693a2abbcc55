"""Fleets' reactions to domain events (subscribed in FleetsConfig.ready())."""

from __future__ import annotations

from refill.events.models import Event

from .tasks import bulk_job_apply


def on_order_paid(events: list[Event]) -> None:
    """A bulk job's one payment arrived (from whichever path settled the card): renew its lines."""
    for event in events:
        if event.payload["bulk_job_id"] is not None and event.line_id is None:
            bulk_job_apply.enqueue(event.payload["bulk_job_id"])


def bulk_job_payments(events: list[Event]) -> list[Event]:
    """The ``order.paid`` events this app acts on (its subscription's filter)."""
    return [event for event in events if event.payload["bulk_job_id"] is not None and event.line_id is None]
