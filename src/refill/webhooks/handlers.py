"""The outbox as a handler of domain events (subscribed in WebhooksConfig.ready()): each event a
partner may subscribe to becomes a webhook event with the payload partners have always had, and one
delivery per subscribed endpoint. Run after the change's commit, once per event (refill.events)."""

from __future__ import annotations

from itertools import groupby

from refill.events.models import Event

from .models import WebhookEndpoint
from .outbox import webhook_emit_many

# What partners see of an event: its payload, or these keys of it (the rest is for Refill's own
# handlers).
FIELDS = {"order.paid": ("order_id", "msisdn", "total", "currency", "paid_at")}


def _partner_payload(event: Event) -> dict:
    keys = FIELDS.get(event.kind)
    return {key: event.payload[key] for key in keys} if keys else dict(event.payload)


def subscribed(events: list[Event]) -> list[Event]:
    """The events some active endpoint subscribed to (the subscription's filter): one query, and no
    delivery row at all when no partner listens."""
    wanted = {kind for endpoint in WebhookEndpoint.objects.filter(active=True) for kind in endpoint.events}
    return [event for event in events if event.kind in wanted]


def forward(events: list[Event]) -> None:
    # Grouped by kind and instant: the webhook events keep the change's own time as before.
    for (kind, created_at), group in groupby(events, key=lambda event: (event.kind, event.created_at)):
        group = list(group)
        keys = [event.key for event in group] if all(event.key for event in group) else None
        webhook_emit_many(kind, [_partner_payload(event) for event in group], now=created_at, keys=keys)
