"""Running the handlers of events: at least once (a delivery stays pending until its handler has
returned, and a sweep retries what is pending), once in effect (the handler's writes and the "done"
mark commit in one transaction, on a delivery claimed with SKIP LOCKED, so a second dispatch of the
same event finds nothing to do), and in order per line (an event of a line waits while an earlier
event of that line is still pending for the same handler).

Handlers are ``f(events: list[Event]) -> None`` and do database work only (write rows, owe notices,
queue tasks): anything that talks to the outside world is a task they queue, so that a slow
provider never holds the claimed rows."""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta
from itertools import groupby

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Delivery

logger = logging.getLogger(__name__)

# A delivery the queue has not done this long after its event is the sweep's: its task was lost (a
# worker killed mid-way) or its handler failed.
SWEEP_AFTER = timedelta(minutes=1)


def events_deliver(*, event_ids: list[int] | None = None, now: datetime | None = None, limit: int = 1000) -> int:
    """Run the pending deliveries of ``event_ids`` (all pending ones when None, oldest first, at most
    ``limit``). Returns how many were done."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        pending = Delivery.objects.filter(status=Delivery.Status.PENDING)
        if event_ids is not None:
            pending = pending.filter(event_id__in=event_ids)
        claimed = list(
            pending.select_for_update(skip_locked=True, of=("self",))
            .select_related("event")
            .order_by("handler", "event_id")[:limit]
        )
        failed: list[tuple[Delivery, str]] = []
        for handler, group in groupby(claimed, key=lambda delivery: delivery.handler):
            runnable = _in_line_order(handler, list(group))
            ran, errors = _run(handler, runnable)
            if ran:
                Delivery.objects.filter(pk__in=[d.pk for d in ran]).update(
                    status=Delivery.Status.DONE, delivered_at=now
                )
                done += len(ran)
            failed += errors
        for delivery, error in failed:
            Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1, last_error=error[:2000])
    return done


def _in_line_order(handler: str, deliveries: list[Delivery]) -> list[Delivery]:
    """Leave out the deliveries of a line that has an earlier pending delivery for this handler
    outside this batch (claimed by another worker, or failed before): they run after it."""
    lines = {d.line_id for d in deliveries if d.line_id is not None}
    if not lines:
        return deliveries
    here = {d.pk for d in deliveries}
    first = {}
    for d in deliveries:
        if d.line_id is not None:
            first.setdefault(d.line_id, d.event_id)
    earliest = dict(
        Delivery.objects.filter(handler=handler, status=Delivery.Status.PENDING, line_id__in=lines)
        .exclude(pk__in=here)
        .values_list("line_id")
        .annotate(Min("event_id"))
    )
    return [d for d in deliveries if d.line_id is None or earliest.get(d.line_id, d.event_id + 1) > d.event_id]


def _run(handler: str, deliveries: list[Delivery]) -> tuple[list[Delivery], list[tuple[Delivery, str]]]:
    """Call the handler with the whole batch; if it fails, with each event alone, so that one bad
    event holds back only itself and the later events of its line."""
    if not deliveries:
        return [], []
    try:
        function = import_string(handler)
    except ImportError as exc:
        logger.exception("events: handler %s cannot be imported", handler)
        return [], [(d, repr(exc)) for d in deliveries]
    try:
        with transaction.atomic():
            function([d.event for d in deliveries])
        return deliveries, []
    except Exception:
        if len(deliveries) == 1:
            logger.exception("events: %s failed on event %s", handler, deliveries[0].event_id)
            return [], [(deliveries[0], _error())]
    ran, failed, stuck = [], [], set()
    for delivery in deliveries:
        if delivery.line_id is not None and delivery.line_id in stuck:
            failed.append((delivery, "an earlier event of this line is not delivered"))
            continue
        try:
            with transaction.atomic():
                function([delivery.event])
            ran.append(delivery)
        except Exception:
            logger.exception("events: %s failed on event %s", handler, delivery.event_id)
            failed.append((delivery, _error()))
            if delivery.line_id is not None:
                stuck.add(delivery.line_id)
    return ran, failed


def _error() -> str:
    return traceback.format_exc()


def events_sweep(*, now: datetime | None = None) -> int:
    """Deliver what the queue did not (the scheduler runs this): pending deliveries older than
    ``SWEEP_AFTER``, oldest first, in batches. Safe to run twice or on two machines at once."""
    now = now or timezone.now()
    done, after = 0, 0
    while True:
        due = list(
            Delivery.objects.filter(
                status=Delivery.Status.PENDING, created_at__lte=now - SWEEP_AFTER, event_id__gt=after
            )
            .order_by("event_id")
            .values_list("event_id", flat=True)
            .distinct()[:500]
        )
        if not due:
            return done
        done += events_deliver(event_ids=due, now=now)
        after = due[-1]  # each pending event is tried once per sweep; what failed waits for the next
