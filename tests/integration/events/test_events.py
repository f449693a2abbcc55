"""Domain events (refill.events): written with their change, delivered through the database task
queue after the commit, at least once (a crashed handler is retried by the sweep), once in effect
(a second dispatch finds nothing to do), and in order per line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from refill import events
from refill.events.delivery import SWEEP_AFTER, events_deliver, events_sweep
from refill.events.models import Delivery, Event
from refill.events.registry import unsubscribe

pytestmark = pytest.mark.django_db(transaction=True)

NOON = datetime(2026, 3, 10, 12, 20, 5, tzinfo=UTC)
SEEN: list[tuple[str, int, int | None]] = []  # (handler, event's "n", line) in the order handled
FAIL: set[int] = set()  # the "n" of events the handler crashes on, until the test mends it


def record(events_: list[Event]) -> None:
    for event in events_:
        if event.payload["n"] in FAIL:
            raise RuntimeError(f"crashed on {event.payload['n']}")
        # A write of the handler's own: it must commit with the "done" mark or not at all.
        Event.objects.create(kind="test.side", payload={"of": event.payload["n"]})
        SEEN.append(("record", event.payload["n"], event.line_id))


def other(events_: list[Event]) -> None:
    SEEN.extend(("other", event.payload["n"], event.line_id) for event in events_)


HANDLERS = [f"{__name__}.record", f"{__name__}.other"]


@pytest.fixture(autouse=True)
def queued(settings):
    """Handlers subscribed for these tests only, run by the database queue (as in production)."""
    settings.REFILL_EVENTS_TASK_BACKEND = "default"
    SEEN.clear()
    FAIL.clear()
    for handler in HANDLERS:
        events.subscribe("test.happened", handler)
    yield
    for handler in HANDLERS:
        unsubscribe("test.happened", handler)


def run_queue() -> int:
    """What a worker does: run the queued delivery tasks, here and now."""
    ran = 0
    for queued in DBTaskResult.objects.filter(task_path="refill.events.tasks.deliver_events", status="READY"):
        queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=queued.pk).update(status="SUCCESSFUL")
        ran += 1
    return ran


def side_effects() -> list[int]:
    return sorted(e.payload["of"] for e in Event.objects.filter(kind="test.side"))


def test_an_event_rolled_back_with_its_change_is_never_seen():
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit("test.happened", line_id=1, n=1)
        raise RuntimeError("the change failed")
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()  # no task either: nothing runs for a change that never was
    assert run_queue() == 0 and events_sweep(now=NOON + SWEEP_AFTER * 10) == 0 and SEEN == []


def test_handlers_run_after_commit_through_the_queue_once_each():
    with transaction.atomic():
        event = events.emit("test.happened", line_id=7, customer_id=3, n=1, at=NOON)
        assert SEEN == []  # not inside the change's transaction
    assert (event.kind, event.line_id, event.customer_id, event.payload) == (
        "test.happened", 7, 3, {"n": 1, "at": "2026-03-10T12:20:05Z"},
    )  # fmt: skip
    assert sorted(Delivery.objects.values_list("handler", "status")) == [(h, "pending") for h in sorted(HANDLERS)]
    assert SEEN == []
    assert run_queue() == 1
    assert sorted(SEEN) == [("other", 1, 7), ("record", 1, 7)]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"done"}


def test_a_second_dispatch_of_the_same_event_runs_nothing_again():
    event = events.emit("test.happened", line_id=7, n=1)
    queued = DBTaskResult.objects.get(task_path="refill.events.tasks.deliver_events")
    queued.task.call(*queued.args_kwargs["args"])
    queued.task.call(*queued.args_kwargs["args"])  # the worker died before marking it done: run again
    assert events_deliver(event_ids=[event.pk]) == 0
    assert events_sweep(now=NOON + timedelta(days=1)) == 0
    assert sorted(SEEN) == [("other", 1, 7), ("record", 1, 7)] and side_effects() == [1]


def test_a_crashed_handler_is_retried_by_the_sweep_and_its_writes_are_undone():
    with time_machine.travel(NOON, tick=False):
        events.emit("test.happened", line_id=7, n=1)
        FAIL.add(1)
        run_queue()
    failed = Delivery.objects.get(handler=f"{__name__}.record")
    assert (failed.status, failed.attempts) == ("pending", 1) and "crashed on 1" in failed.last_error
    assert Delivery.objects.get(handler=f"{__name__}.other").status == "done"  # the other handler is not held back
    assert side_effects() == []  # the crashed run's own write went with it
    FAIL.clear()
    assert events_sweep(now=NOON + SWEEP_AFTER / 2) == 0  # the queue's own time first
    assert events_sweep(now=NOON + SWEEP_AFTER) == 1
    failed.refresh_from_db()
    assert failed.status == "done" and failed.delivered_at == NOON + SWEEP_AFTER
    assert side_effects() == [1] and SEEN.count(("record", 1, 7)) == 1
    assert events_sweep(now=NOON + SWEEP_AFTER * 2) == 0  # twice is the same as once


def test_a_line_s_events_are_handled_in_order_even_when_an_earlier_one_fails():
    with time_machine.travel(NOON, tick=False):
        FAIL.add(1)
        events.emit_many(
            "test.happened",
            [{"line_id": 7, "n": 1}, {"line_id": 7, "n": 2}, {"line_id": 8, "n": 3}, {"line_id": None, "n": 4}],
        )
        run_queue()
    # Event 2 waits for event 1 of the same line; line 8 and the event with no line go ahead.
    assert [(n, line) for handler, n, line in SEEN if handler == "record"] == [(3, 8), (4, None)]
    assert [n for handler, n, _ in SEEN if handler == "other"] == [1, 2, 3, 4]
    assert Delivery.objects.get(handler=f"{__name__}.record", event__payload__n=2).attempts == 1
    assert events_sweep(now=NOON + SWEEP_AFTER) == 0  # still crashing: event 2 still waits
    assert [(n, line) for handler, n, line in SEEN if handler == "record"] == [(3, 8), (4, None)]
    FAIL.clear()
    assert events_sweep(now=NOON + SWEEP_AFTER) == 2
    assert [(n, line) for handler, n, line in SEEN if handler == "record"] == [(3, 8), (4, None), (1, 7), (2, 7)]


def test_a_later_event_does_not_overtake_an_earlier_one_queued_apart():
    first = events.emit("test.happened", line_id=7, n=1)
    second = events.emit("test.happened", line_id=7, n=2)
    assert events_deliver(event_ids=[second.pk]) == 0  # its task came first: it waits for the first
    assert SEEN == []
    assert events_deliver(event_ids=[first.pk]) == 2 and events_deliver(event_ids=[second.pk]) == 2
    assert [n for handler, n, _ in SEEN if handler == "record"] == [1, 2]


def test_an_event_nobody_handles_is_kept_and_queues_nothing(settings):
    # Kept because its kind is kept for audit: otherwise nothing is written (test_unheard.py).
    settings.REFILL_EVENTS_AUDIT_KINDS = ("test.unheard",)
    event = events.emit("test.unheard", line_id=7, n=1)
    assert Event.objects.get().pk == event.pk and not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()
