"""The fast path for GET /api/v1/lines/{msisdn} by a partner key answers exactly as the full view
does (body byte for byte, the same headers), and leaves everything else to the full stack."""

import pytest
from django.conf import settings as django_settings

from refill.api import fastpath
from refill.apikeys.services import apikey_create, apikey_revoke
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
MSISDN = "+12025550177"
FAST = "refill.api.fastpath.LineReadFastPath"
DIFFERENT_EVERY_TIME = {"Date", "X-Request-ID", "RateLimit-Remaining"}


@pytest.fixture
def world():
    market = make_market()
    plan = make_30day_plan(market)
    owner, _ = make_customer()
    line = make_line(owner, market, plan, msisdn=MSISDN)
    renew(line, plan, periods=2)
    key_obj, key = apikey_create(name="Network", scopes=["read"], actor=None)
    return line, key_obj, key


@pytest.fixture
def answered_fast(monkeypatch):
    answered = []
    original = fastpath.LineReadFastPath._answer

    def spy(self, *args):
        response = original(self, *args)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(fastpath.LineReadFastPath, "_answer", spy)
    return answered


def get(key, path=f"/api/v1/lines/{MSISDN}", **extra):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {key}", **extra)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_same_answer_as_the_full_view(world, settings, answered_fast, language):
    line, _, key = world
    fast = get(key, HTTP_ACCEPT_LANGUAGE=language)
    assert answered_fast == [True]
    settings.MIDDLEWARE = [m for m in django_settings.MIDDLEWARE if m != FAST]
    full = get(key, HTTP_ACCEPT_LANGUAGE=language)
    assert answered_fast == [True]  # the full view answered the second
    assert (fast.status_code, fast.content) == (full.status_code, full.content) == (200, full.content)
    body = fast.json()
    assert body["plan"] == "us-30day" and len(body["buckets"]) == 3
    assert body["plan_name"] == ("30天套餐" if language == "zh-hans" else "30-Day Plan")
    headers = {name: value for name, value in fast.headers.items() if name not in DIFFERENT_EVERY_TIME}
    assert headers == {name: value for name, value in full.headers.items() if name not in DIFFERENT_EVERY_TIME}
    assert fast["RateLimit-Remaining"] and fast["X-Request-ID"]


def test_everything_else_goes_down_the_full_stack(world, answered_fast):
    line, key_obj, key = world
    no_scope = apikey_create(name="PINs", scopes=["vouchers"], actor=None)[1]
    assert get(no_scope).json()["code"] == "scope_missing"
    assert get(key, "/api/v1/lines/+12025550100").status_code == 404
    assert get("rfk_nope_nope").status_code == 401
    assert answered_fast == [False, False, False]
    apikey_revoke(key=key_obj, actor=None)
    assert get(key).status_code == 401  # at once in this process


def test_the_rate_limit_still_holds(world, settings):
    line, _, key = world
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "key": 2}
    assert [get(key).status_code for _ in range(3)] == [200, 200, 429]


def test_a_request_left_to_the_full_stack_is_counted_once(world, settings):
    line, _, key = world
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "key": 2}
    assert get(key, "/api/v1/lines/+12025550100").status_code == 404
    assert get(key).status_code == 200
    refused = get(key)
    assert refused.status_code == 429 and refused["Retry-After"]
