"""The per-provider rate limit is shared through the database: two limiters (two worker
processes) together never exceed the provider's calls per second."""

import threading
import time

import pytest

from refill.integrations.payments.limits import ProviderLimiter
from refill.ops.models import ProviderBudget

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_share_one_budget_per_second():
    first, second = ProviderLimiter("acme", rate_per_second=6, concurrency=2), ProviderLimiter("acme", 6, 2)
    calls: list[tuple[int, float]] = []
    lock = threading.Lock()

    def call(limiter):
        from django.db import connection

        try:
            for _ in range(6):
                with limiter.slots:
                    granted = limiter.take()
                    with lock:
                        calls.append((granted, time.time()))
        finally:
            connection.close()

    started = time.time()
    threads = [threading.Thread(target=call, args=(limiter,)) for limiter in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 24
    # Grants are counted per second they were made in (a thread may be scheduled out between the
    # grant and its own clock reading, so the wall time only bounds it from below).
    assert all(at >= granted for granted, at in calls)
    per_second: dict[int, int] = {}
    for granted, _at in calls:
        per_second[granted] = per_second.get(granted, 0) + 1
    assert max(per_second.values()) <= 6
    assert time.time() - started >= 2.0  # 24 calls at 6/s span four one-second windows
    # The shared counter saw every second the calls were made in.
    assert set(per_second) <= set(ProviderBudget.objects.filter(gateway="acme").values_list("second", flat=True))
