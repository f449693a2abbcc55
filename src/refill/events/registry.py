"""Who handles which event: filled by the apps' ``ready()`` hooks, read by ``emit`` (one delivery
row per subscriber) and by the dispatcher. Handlers are named by dotted path and imported only
when they run, so subscribing never imports the handler's app into the emitter's."""

from __future__ import annotations

from collections.abc import Callable

_handlers: dict[str, list[str]] = {}


def subscribe(kind: str, handler: str) -> None:
    """Have ``handler`` (a dotted path to ``f(events: list[Event]) -> None``) run for every event of
    ``kind``. Subscribing twice is the same as once (``ready()`` may run again in tests)."""
    paths = _handlers.setdefault(kind, [])
    if handler not in paths:
        paths.append(handler)


def handles(kind: str) -> Callable[[Callable], Callable]:
    """Decorator form of ``subscribe`` for a module-level function."""

    def register(function: Callable) -> Callable:
        subscribe(kind, f"{function.__module__}.{function.__qualname__}")
        return function

    return register


def subscribers(kind: str) -> list[str]:
    return list(_handlers.get(kind, ()))


def unsubscribe(kind: str, handler: str) -> None:
    """Tests only: take a handler they added away again."""
    if handler in _handlers.get(kind, ()):
        _handlers[kind].remove(handler)
