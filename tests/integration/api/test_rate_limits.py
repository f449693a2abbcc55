"""Rate limits on /api/v1/: per key and per address, 429 with Retry-After once over."""

from datetime import UTC, datetime

import pytest

from refill.api.models import RateWindow
from refill.apikeys.services import apikey_create
from tests.factories import make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings, time_machine):
    # Windows end on the minute: five seconds into one, with the clock standing still, all the
    # requests of a test fall in the same window and Retry-After is known.
    time_machine.move_to(datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC), tick=False)
    settings.REFILL_API_RATE_LIMITS = {"enabled": True, "window": 60, "key": 3, "ip": 2}
    make_plan(make_market(), "us-30day")


def test_per_key(limits):
    _, text = apikey_create(name="Reader", scopes=["read"], actor=None)
    _, other = apikey_create(name="Other", scopes=["read"], actor=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {text}")
    answers = [client.get("/api/v1/plans") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["RateLimit-Limit"] == "3" and answers[2]["RateLimit-Remaining"] == "0"
    refused = answers[3]
    assert refused.json()["code"] == "rate_limited" and refused["Content-Type"] == "application/problem+json"
    assert refused["Retry-After"] == "55"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get("/api/v1/plans").status_code == 200  # its own count


def test_per_address_for_everyone_else(limits):
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert [client.get("/api/v1/plans").status_code for _ in range(3)] == [401, 401, 429]
    assert Client(REMOTE_ADDR="203.0.113.10").get("/api/v1/plans").status_code == 401
    assert RateWindow.objects.get(caller="ip:203.0.113.9").count == 3


def test_pages_are_not_counted(limits):
    client = Client(REMOTE_ADDR="203.0.113.11")
    for _ in range(5):
        client.get("/")
    assert not RateWindow.objects.filter(caller="ip:203.0.113.11").exists()


def test_far_below_the_limit_counts_are_added_in_batches_and_none_is_lost(settings):
    from refill.api import ratelimit

    settings.REFILL_API_RATE_LIMITS = {"enabled": True, "window": 60, "key": 10_000, "ip": 10_000}
    window = 1_000_000
    answers = [ratelimit.count("ip:198.51.100.99", window, 10_000) for _ in range(60)]
    assert answers == list(range(1, 61))  # each request sees its own count
    stored = RateWindow.objects.get(caller="ip:198.51.100.99", window_start=window).count
    assert 50 <= stored <= 60  # added every 25 requests; the rest within a second
    # Near the limit every request is added at once.
    near = [ratelimit.count("ip:198.51.100.98", window, 5) for _ in range(6)]
    assert near == [1, 2, 3, 4, 5, 6]
    assert RateWindow.objects.get(caller="ip:198.51.100.98", window_start=window).count == 6
