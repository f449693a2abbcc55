"""eSIM's reactions to domain events (subscribed in EsimConfig.ready())."""

from __future__ import annotations

from refill.events.models import Event

from .tasks import esim_deliver_new_lines


def on_order_paid(events: list[Event]) -> None:
    """A new eSIM line's first payment: its profile is prepared (or taken ready) and sent."""
    activated = [event.line_id for event in events if event.payload["esim_activated"]]
    if activated:
        esim_deliver_new_lines.enqueue(activated)


def new_esim_lines(events: list[Event]) -> list[Event]:
    """The ``order.paid`` events this app acts on (its subscription's filter)."""
    return [event for event in events if event.payload["esim_activated"]]
