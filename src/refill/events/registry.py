"""Who handles which event: filled by the apps' ``ready()`` hooks, read by ``emit`` (one delivery
row per subscriber that wants the event) and by the dispatcher. Handlers and filters are named by
dotted path and imported only when used, so subscribing never imports the handler's app into the
emitter's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Subscription:
    handler: str
    # A dotted path to ``f(events: list[Event]) -> list[Event]``: the events (unsaved, payload as
    # stored) this handler will act on. The others get no delivery row at all, so a batch of a
    # thousand renewals does not write a thousand rows for the gift handler, which ignores them.
    when: str | None = None

    def wanted(self, events: list) -> list:
        return import_string(self.when)(events) if self.when else events


_subscriptions: dict[str, list[Subscription]] = {}


def subscribe(kind: str, handler: str, *, when: str | None = None) -> None:
    """Have ``handler`` (a dotted path to ``f(events: list[Event]) -> None``) run for every event of
    ``kind`` (those ``when`` keeps, if given). Subscribing twice is the same as once (``ready()``
    may run again in tests)."""
    entries = _subscriptions.setdefault(kind, [])
    if all(entry.handler != handler for entry in entries):
        entries.append(Subscription(handler, when))


def handles(kind: str, *, when: str | None = None) -> Callable[[Callable], Callable]:
    """Decorator form of ``subscribe`` for a module-level function."""

    def register(function: Callable) -> Callable:
        subscribe(kind, f"{function.__module__}.{function.__qualname__}", when=when)
        return function

    return register


def subscriptions(kind: str) -> list[Subscription]:
    return list(_subscriptions.get(kind, ()))


def subscribers(kind: str) -> list[str]:
    return [entry.handler for entry in _subscriptions.get(kind, ())]


def unsubscribe(kind: str, handler: str) -> None:
    """Tests only: take a handler they added away again."""
    _subscriptions[kind] = [entry for entry in _subscriptions.get(kind, ()) if entry.handler != handler]
