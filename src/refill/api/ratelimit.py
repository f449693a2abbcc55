"""Rate limits for /api/v1/: per API key, and per address for everyone else, counted in fixed
windows in the database, shared by every process. Over the limit: 429 with Retry-After, as an
RFC 9457 problem.

A caller far below its limit is counted in the process and added to the shared count every
FLUSH_EVERY requests or FLUSH_AFTER seconds (one statement then, not one per request: the hottest
reads would spend more on counting than on answering). Within NEAR of the limit every request is
added at once and reads the shared total back, so the limit holds exactly but for what other
processes have counted and not yet added (fewer than FLUSH_EVERY each)."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from refill.errors import problem_response
from refill.ops.bulk import counter_add

from .models import RateWindow


def key_caller(prefix: str) -> str:
    """How an API key is counted: by its public prefix."""
    return f"key:{prefix[:12]}"


def _caller(request: HttpRequest) -> tuple[str, int]:
    """Who is counted and their limit per window: a key by its public prefix, else the address."""
    limits = settings.REFILL_API_RATE_LIMITS
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer rfk_"):
        return key_caller(auth[len("Bearer rfk_") :].partition("_")[0]), limits["key"]
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"[:60], limits["ip"]


FLUSH_EVERY = 25
FLUSH_AFTER = 1.0  # seconds
NEAR = 2 * FLUSH_EVERY
_local: dict[tuple[str, int], list] = {}  # (caller, window) -> [not yet added, shared total seen, added at]
_lock = threading.Lock()
_window = 0  # the newest window this process has counted in


def count(caller: str, window: int, limit: int) -> int:
    """Count one request of ``caller`` in ``window``; its count so far, this one included."""
    now = time.monotonic()
    with _lock:
        entry = _local.get((caller, window))
        if entry is None:
            global _window
            if window > _window:
                # Earlier windows: what they had not added no longer matters.
                for stale in [k for k in _local if k[1] < window]:
                    del _local[stale]
                _window = window
            entry = _local[caller, window] = [0, 0, now]
        entry[0] += 1
        estimate = entry[1] + entry[0]
        if entry[0] < FLUSH_EVERY and now - entry[2] < FLUSH_AFTER and limit - estimate > NEAR:
            return estimate
        pending, entry[0], entry[2] = entry[0], 0, now
    shared = counter_add(RateWindow, {"caller": caller, "window_start": window}, "count", pending)
    with _lock:
        entry[1] = shared  # the database's word, not this process's memory
        return shared + entry[0]


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/v1/") or not settings.REFILL_API_RATE_LIMITS["enabled"]:
            return self.get_response(request)
        seconds = settings.REFILL_API_RATE_LIMITS["window"]
        now = int(time.time())
        window = now - now % seconds
        caller, limit = _caller(request)
        # Already counted by the fast path (refill.api.fastpath), which then left it to the full stack.
        used = getattr(request, "refill_rate_counted", None)
        if used is None:
            used = count(caller, window, limit)
        if used > limit:
            response = problem_response(429, "rate_limited", _("Too many requests. Wait a moment and try again."))
            response["Retry-After"] = str(window + seconds - now)
            return response
        response = self.get_response(request)
        response["RateLimit-Limit"] = str(limit)
        response["RateLimit-Remaining"] = str(max(limit - used, 0))
        return response


def rate_windows_sweep() -> int:
    """Forget windows older than an hour."""
    deleted, _ = RateWindow.objects.filter(window_start__lt=int(time.time()) - 3600).delete()
    return deleted
