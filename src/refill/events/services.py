"""Writing events: one row per change, one delivery row per subscribed handler, and the task that
runs them, all in the caller's transaction (the database task backend makes the task visible only
when that transaction commits: no event without its change, no change without its event)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from .delivery import events_deliver
from .models import Delivery, Event
from .registry import subscriptions
from .tasks import deliver_events


@dataclass(slots=True)
class _Draft:
    """An event before the filters choose whether it is written."""

    kind: str
    line_id: int | None
    customer_id: int | None
    payload: dict
    key: str | None

    def row(self, now: datetime) -> Event:
        payload = json.loads(json.dumps(self.payload, cls=DjangoJSONEncoder))
        return Event(
            kind=self.kind,
            line_id=self.line_id,
            customer_id=self.customer_id,
            payload=payload,
            created_at=now,
            key=self.key,
        )


@transaction.atomic
def events_emit(
    kind: str,
    rows: list[dict],
    *,
    now: datetime | None = None,
    keys: list[str] | None = None,
    inline: bool = False,
) -> list[Event]:
    """Write one event per row (``line_id`` and ``customer_id`` taken out of it as references, the
    rest kept as the payload, as JSON: dates and amounts become text) and queue their delivery.
    Events a sweep finds pass ``keys`` (one per row): a key written before is left out, so a sweep
    that runs twice says nothing twice."""
    now = now or timezone.now()
    events = []
    for row, key in zip(rows, keys or [None] * len(rows), strict=True):
        row = dict(row)
        line_id, customer_id = row.pop("line_id", None), row.pop("customer_id", None)
        # Drafts until the filters have chosen (they read kind, line_id and plain payload values):
        # only events that are written become rows and pay for the JSON round trip (a lapse sweep
        # moves thousands of lines that nobody listens to).
        events.append(_Draft(kind, line_id, customer_id, row, key))
    if keys:
        known = set(Event.objects.filter(key__in=keys).values_list("key", flat=True))
        events = [event for event in events if event.key not in known]
    # Who takes which event, asked before anything is written (the filters look at the unsaved
    # events' payload): an event no handler would act on is not written at all, unless its kind is
    # kept for audit. The reminder sweep finds hundreds of expiring lines that no partner listens to.
    wanted = (
        [(entry.handler, {id(event) for event in entry.wanted(events)}) for entry in subscriptions(kind)]
        if events
        else []
    )
    if kind not in settings.REFILL_EVENTS_AUDIT_KINDS:
        taken = set().union(*(ids for _, ids in wanted))
        events = [event for event in events if id(event) in taken]
    if not events:
        return []
    rows_of = {id(draft): draft.row(now) for draft in events}
    wanted = [(handler, {id(rows_of[draft_id]) for draft_id in ids if draft_id in rows_of}) for handler, ids in wanted]
    events = list(rows_of.values())
    try:
        with transaction.atomic():
            Event.objects.bulk_create(events)  # SQLite and PostgreSQL both give the new keys back
    except IntegrityError:
        # Another sweep wrote some of these keys meanwhile: keep those this call writes alone.
        events = [event for event in events if _insert_once(event)]
    deliveries = [
        Delivery(event=event, handler=handler, line_id=event.line_id, created_at=now)
        for handler, ids in wanted
        for event in events
        if id(event) in ids
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
        # Tests run the delivery at once, inside this transaction (settings.REFILL_EVENTS_TASK_BACKEND
        # names Django's immediate backend there); everywhere else it is a queued task.
        event_ids = sorted({delivery.event.pk for delivery in deliveries})
        if inline:
            # The caller waits for the handlers (and reads their outcome): they run here, in its
            # transaction; one that fails stays pending for the sweep, as a queued one would.
            events_deliver(event_ids=event_ids, now=now)
            return events
        deliver_events.using(backend=settings.REFILL_EVENTS_TASK_BACKEND).enqueue(event_ids)
    return events


def _insert_once(event: Event) -> bool:
    event.pk = None
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        return False
    return True
