"""Domain events: a change others care about writes one ``Event`` row in its own transaction
(``emit``); the handlers that subscribed to its kind (``subscribe`` in their app's ``ready()``) run
after the commit through the task queue, at least once, once in effect, and in order per line.
The emitter imports none of its handlers. See docs/events.md for the list of events."""

from __future__ import annotations

from .registry import handles, subscribe, subscribers

__all__ = ["emit", "emit_inline", "emit_many", "handles", "subscribe", "subscribers"]


def emit(kind: str, *, line_id: int | None = None, customer_id: int | None = None, **payload):
    """Write one event of ``kind`` (and one delivery per subscriber) in the caller's transaction.
    Returns it, or None when no subscribed handler would take it (and its kind is not kept for
    audit): then nothing is written."""
    # This package is imported while Django loads its apps (INSTALLED_APPS names it), before any
    # model may be: the service module, which uses the models, is imported when an event is written.
    from .services import events_emit

    written = events_emit(kind, [{"line_id": line_id, "customer_id": customer_id, **payload}])
    return written[0] if written else None


def emit_many(kind: str, rows: list[dict], *, now=None, keys: list[str] | None = None):
    """``emit`` for a batch of changes of one kind (each row a payload, with ``line_id`` and
    ``customer_id`` if they apply): a few statements in all and one task. ``now`` is the change's
    own instant when it is not the clock's (a sweep working on a given moment); ``keys`` (one per
    row) make a sweep's events once-only."""
    from .services import events_emit

    return events_emit(kind, rows, now=now, keys=keys)


def emit_inline(kind: str, *, line_id: int | None = None, customer_id: int | None = None, **payload) -> list[str]:
    """``emit``, and run its handlers at once, here, in the caller's transaction, for a caller that
    must know how they went (a provider's webhook records whether it could be applied). Returns the
    errors of the handlers that failed (empty when all ran); a failed one stays pending and the
    sweep retries it, as for a queued event."""
    from .models import Delivery
    from .services import events_emit

    written = events_emit(kind, [{"line_id": line_id, "customer_id": customer_id, **payload}], inline=True)
    if not written:
        return []
    failed = Delivery.objects.filter(event=written[0], status=Delivery.Status.PENDING)
    # The last line of the recorded traceback: the exception and its message.
    return [
        (error.strip().splitlines() or [handler])[-1] for handler, error in failed.values_list("handler", "last_error")
    ]
