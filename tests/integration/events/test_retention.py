"""Events are forgotten REFILL_EVENTS_KEEP_DAYS after they were written, once every handler has run
them: in batches, the oldest first; an event still owed to a handler is kept whatever its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from refill import events
from refill.events.delivery import events_deliver
from refill.events.models import Delivery, Event
from refill.events.registry import unsubscribe
from refill.events.retention import events_prune

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HANDLER = f"{__name__}.handle"
FAIL: set[int] = set()


def handle(events_: list[Event]) -> None:
    for event in events_:
        if event.payload["n"] in FAIL:
            raise RuntimeError("crashed")


@pytest.fixture(autouse=True)
def subscribed(settings):
    settings.REFILL_EVENTS_TASK_BACKEND = "immediate"
    settings.REFILL_EVENTS_KEEP_DAYS = 30
    settings.REFILL_EVENTS_AUDIT_KINDS = ("test.audit",)
    FAIL.clear()
    events.subscribe("test.kept", HANDLER)
    yield
    unsubscribe("test.kept", HANDLER)


def emit_at(when: datetime, kind: str, n: int) -> Event:
    with time_machine.travel(when, tick=False):
        return events.emit(kind, line_id=n, n=n)


def test_done_events_older_than_the_setting_are_deleted_in_batches_and_owed_ones_kept():
    old = [emit_at(NOON - timedelta(days=31, minutes=n), "test.kept", n) for n in range(5)]
    audit = emit_at(NOON - timedelta(days=40), "test.audit", 100)  # no handler: kept for audit only
    FAIL.add(200)
    owed = emit_at(NOON - timedelta(days=60), "test.kept", 200)  # its handler crashed: still pending
    young = emit_at(NOON - timedelta(days=29), "test.kept", 300)
    assert Delivery.objects.filter(status="done").count() == 6
    with time_machine.travel(NOON, tick=False):
        assert events_prune(batch=2) == 6
        assert events_prune(batch=2) == 0  # a second run finds nothing
    left = set(Event.objects.values_list("pk", flat=True))
    assert left == {owed.pk, young.pk}
    assert not Delivery.objects.filter(event_id__in=[e.pk for e in [*old, audit]]).exists()
    assert Delivery.objects.get(event=owed).status == "pending"
    # Once its handler has run it, the owed event goes too, with the young one when it is old.
    FAIL.clear()
    with time_machine.travel(NOON, tick=False):
        assert events_deliver(event_ids=[owed.pk]) == 1
    with time_machine.travel(NOON + timedelta(days=31), tick=False):
        assert events_prune() == 2
    assert not Event.objects.exists() and not Delivery.objects.exists()
