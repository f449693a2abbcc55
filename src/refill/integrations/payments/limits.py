"""Per-provider limits for bulk work (auto-renew): at most REFILL_PROVIDER_RATE calls per second to
one provider across all workers and machines, and at most REFILL_PROVIDER_CONCURRENCY calls in
flight per worker process, so a big renewal day spreads out instead of being throttled.

The rate is kept in the database (``ProviderBudget``: one row per provider and second). A worker
reserves tokens in chunks (a twentieth of the rate, at least 5) with one upsert, so the shared
counter costs a statement per chunk, not per call; tokens left unused when a second ends are
dropped, which can only make the limit stricter."""

from __future__ import annotations

import threading
import time

from django.conf import settings

from refill.ops.bulk import counter_add
from refill.ops.models import ProviderBudget

CHUNK = 5


def _reserve(gateway: str, second: int, count: int) -> int:
    """Add ``count`` to the provider's calls in ``second``; returns the new total."""
    return counter_add(ProviderBudget, {"gateway": gateway, "second": second}, "used", count)


class ProviderLimiter:
    """Take a token before each provider call (``with limiter:``)."""

    def __init__(self, gateway: str, rate_per_second: int | None = None, concurrency: int | None = None) -> None:
        self.gateway = gateway
        self.rate = rate_per_second or settings.REFILL_PROVIDER_RATE.get(gateway, settings.REFILL_PROVIDER_RATE_DEFAULT)
        self.slots = threading.BoundedSemaphore(concurrency or settings.REFILL_PROVIDER_CONCURRENCY)
        self._lock = threading.Lock()
        self._second = 0
        self._tokens = 0
        self._spent = False

    def take(self) -> int:
        """Wait for one call's share of the provider's rate (the caller bounds its concurrency);
        returns the second whose budget the call was granted from, which is the second it returns in."""
        while True:
            with self._lock:
                now = time.time()
                second = int(now)
                if second != self._second:
                    self._second, self._tokens, self._spent = second, 0, False
                if self._tokens == 0 and not self._spent:
                    # A twentieth of the rate at a time (at least CHUNK): a big budget costs few
                    # statements, a small one is shared fairly between workers.
                    chunk = min(max(CHUNK, self.rate // 20), self.rate)
                    total = _reserve(self.gateway, second, chunk)
                    if int(time.time()) != second:
                        # The second ended while the database answered: its tokens are void (a
                        # call made now would count against a second that is over).
                        continue
                    self._tokens = max(0, min(chunk, self.rate - (total - chunk)))
                    # Nothing granted: this second's budget is gone; do not ask again until the next.
                    self._spent = self._tokens == 0
                if self._tokens > 0 and int(time.time()) == second:
                    self._tokens -= 1
                    return second
            # The provider's budget for this second is spent: wait for the next one.
            time.sleep(max(0.0, second + 1 - now))

    def __enter__(self) -> ProviderLimiter:
        self.slots.acquire()
        try:
            self.take()
        except BaseException:
            self.slots.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.slots.release()


_limiters: dict[str, ProviderLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(gateway: str) -> ProviderLimiter:
    """This process's limiter for ``gateway`` (shared by its threads)."""
    with _limiters_lock:
        if gateway not in _limiters:
            _limiters[gateway] = ProviderLimiter(gateway)
        return _limiters[gateway]


class Limited:
    """A gateway whose calls to the provider go through its limiter; everything else passes through."""

    def __init__(self, gateway) -> None:
        self._gateway = gateway
        self._limiter = limiter_for(gateway.name)

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def charge(self, request):
        with self._limiter:
            return self._gateway.charge(request)

    def fetch(self, idempotency_key, provider_reference=""):
        with self._limiter:
            return self._gateway.fetch(idempotency_key, provider_reference)

    def cancel(self, idempotency_key, provider_reference=""):
        with self._limiter:
            return self._gateway.cancel(idempotency_key, provider_reference)
