"""Writing events: one row per change, one delivery row per subscribed handler, and the task that
runs them, all in the caller's transaction (the database task backend makes the task visible only
when that transaction commits: no event without its change, no change without its event)."""

from __future__ import annotations

import json
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import Delivery, Event
from .registry import subscribers
from .tasks import deliver_events


@transaction.atomic
def events_emit(kind: str, rows: list[dict], *, now: datetime | None = None) -> list[Event]:
    """Write one event per row (``line_id`` and ``customer_id`` taken out of it as references, the
    rest kept as the payload, as JSON: dates and amounts become text) and queue their delivery."""
    if not rows:
        return []
    now = now or timezone.now()
    events = []
    for row in rows:
        row = dict(row)
        line_id, customer_id = row.pop("line_id", None), row.pop("customer_id", None)
        payload = json.loads(json.dumps(row, cls=DjangoJSONEncoder))
        events.append(Event(kind=kind, line_id=line_id, customer_id=customer_id, payload=payload, created_at=now))
    Event.objects.bulk_create(events)  # SQLite and PostgreSQL both give the new keys back
    handlers = subscribers(kind)
    if handlers:
        Delivery.objects.bulk_create(
            Delivery(event=event, handler=handler, line_id=event.line_id, created_at=now)
            for event in events
            for handler in handlers
        )
        # Tests run the delivery at once, inside this transaction (settings.REFILL_EVENTS_TASK_BACKEND
        # names Django's immediate backend there); everywhere else it is a queued task.
        deliver_events.using(backend=settings.REFILL_EVENTS_TASK_BACKEND).enqueue([event.pk for event in events])
    return events
