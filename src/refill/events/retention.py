"""Forgetting events: once every handler has run an event, its row and its deliveries only tell
history, and the table would grow by every paid order for ever. The scheduler's ``events_prune``
deletes them ``REFILL_EVENTS_KEEP_DAYS`` after they were written, in batches, so that one run never
holds a long lock; an event with a delivery still pending is kept whatever its age (at least once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Delivery, Event

BATCH = 1000


def events_prune(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete the events older than ``REFILL_EVENTS_KEEP_DAYS`` whose deliveries are all done (or
    that had none: a kind kept for audit), oldest first, ``batch`` at a time, each batch in its own
    transaction. Returns how many events were deleted. Safe to run twice or on two machines."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.REFILL_EVENTS_KEEP_DAYS)
    pending = Delivery.objects.filter(event_id=OuterRef("pk"), status=Delivery.Status.PENDING)
    deleted, after = 0, 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(created_at__lt=before, pk__gt=after)
                .exclude(Exists(pending))
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return deleted
            # Deliveries first, then the events, by key: two plain DELETEs instead of the ORM's
            # cascade collecting every row. A delivery that turned pending meanwhile cannot exist
            # (a done delivery is never reopened), so nothing still owed is lost.
            Delivery.objects.filter(event_id__in=ids).delete()
            deleted += Event.objects.filter(pk__in=ids).delete()[0]
        after = ids[-1]
