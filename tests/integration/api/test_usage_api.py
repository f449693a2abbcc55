"""POST /api/v1/usage-records from the network, and GET /api/v1/lines/{msisdn}/usage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from refill.apikeys.services import apikey_create
from refill.notifications.models import Notification
from refill.subscriptions.models import Bucket, UsageRecord
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
MSISDN = "+12025550191"


@pytest.fixture
def network():
    market = make_market()
    plan = make_plan(market, "us-30day", data_mb=1000, voice_minutes=100, sms=10)
    customer, user = make_customer("usage@example.com")
    line = make_line(customer, market, plan, msisdn=MSISDN)
    renew(line, plan)
    _, key = apikey_create(name="Network", kind="network", scopes=["usage:write"], actor=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, line, user


def send(client, *records):
    return client.post("/api/v1/usage-records", {"records": list(records)}, content_type="application/json")


def record(record_id, amount, kind="data", msisdn=MSISDN, at=None):
    return {"record_id": record_id, "msisdn": msisdn, "kind": kind, "amount": amount,
            "timestamp": (at or timezone.now()).isoformat()}  # fmt: skip


def test_records_are_applied_once_first_expiring_first(network):
    client, line, _ = network
    now = timezone.now()
    addon = Bucket.objects.create(
        line=line, kind="data", granted=100, valid_from=now - timedelta(days=1), expires_at=now + timedelta(days=1),
        source="adjustment",
    )  # fmt: skip
    answer = send(client, record("r1", 150), record("r2", 5, kind="sms"), record("r3", 3, msisdn="+12025550999"))
    assert answer.status_code == 200
    assert [(r["record_id"], r["status"]) for r in answer.json()["results"]] == [
        ("r1", "applied"), ("r2", "applied"), ("r3", "unknown_line"),
    ]  # fmt: skip
    addon.refresh_from_db()
    plan_data = Bucket.objects.get(line=line, kind="data", source="period")
    assert (addon.used, plan_data.used) == (100, 50)  # the add-on expires first
    again = send(client, record("r1", 150), record("r4", 1))
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "applied"]
    plan_data.refresh_from_db()
    assert plan_data.used == 51 and UsageRecord.objects.count() == 3


def test_overage_and_thresholds(network):
    client, line, _ = network
    answer = send(client, record("a", 800)).json()["results"][0]
    assert (answer["status"], answer["overage"]) == ("applied", 0)
    assert Notification.objects.filter(rule="usage_75", line=line).exists()  # told at once
    over = send(client, record("b", 300)).json()["results"][0]
    assert (over["overage"], over["action"]) == (100, "blocked")
    assert Bucket.objects.get(line=line, kind="data").used == 1000
    assert Notification.objects.filter(rule="usage_100", line=line).exists()
    assert UsageRecord.objects.get(record_id="b").overage == 100


def test_unlimited_data_is_throttled_past_fair_use(network):
    client, line, _ = network
    plan = make_plan(line.market, "us-unlimited", data_mb=None)
    plan.throttle_after_mb = 500
    plan.save()
    other = make_line(line.owner, line.market, plan, msisdn="+12025550192")
    renew(other, plan)
    first = send(client, record("u1", 400, msisdn=other.msisdn)).json()["results"][0]
    second = send(client, record("u2", 300, msisdn=other.msisdn)).json()["results"][0]
    assert (first["overage"], first["action"]) == (0, "")
    assert (second["overage"], second["action"]) == (200, "throttled")


def test_bad_batches_and_records(network):
    client, line, _ = network
    assert send(client).status_code == 422
    assert send(client, *[record(f"x{n}", 1) for n in range(1001)]).status_code == 422
    bad = send(client, record("k", 1, kind="fax"), record("", 1)).json()["results"]
    assert [r["status"] for r in bad] == ["invalid", "invalid"]
    assert not UsageRecord.objects.exists()


def test_only_the_network_may_send(network):
    _, line, user = network
    _, reader = apikey_create(name="Reader", scopes=["read"], actor=None)
    assert send(Client(HTTP_AUTHORIZATION=f"Bearer {reader}"), record("z", 1)).status_code == 403
    customer = Client()
    login(customer, user)
    assert send(customer, record("z", 1)).status_code == 401
    assert send(Client(), record("z", 1)).status_code == 401
    assert not UsageRecord.objects.exists()


def test_daily_usage_for_charts(network):
    client, line, user = network
    now = timezone.now()
    send(client, record("d1", 10, at=now - timedelta(days=1)), record("d2", 5, at=now - timedelta(minutes=5)),
         record("d3", 2, kind="voice", at=now - timedelta(minutes=5)))  # fmt: skip
    owner = Client()
    login(owner, user)
    days = owner.get(f"/api/v1/lines/{MSISDN}/usage?days=7").json()
    assert sum(d["data"] for d in days) == 15 and sum(d["voice"] for d in days) == 2
    assert days == sorted(days, key=lambda d: d["date"])


def test_odd_numbers_are_unknown_lines_not_errors(network):
    from refill.subscriptions.usage import Usage, usage_apply

    stamp = timezone.now()
    odd = ['a"b', "c\\d", "e,f", "{g}", "+1 202"]
    outcomes = usage_apply([Usage(f"odd-{n}", msisdn, "sms", 1, stamp) for n, msisdn in enumerate(odd)])
    assert [outcome.status for outcome in outcomes] == ["unknown_line"] * len(odd)


def test_odd_record_ids_and_times_are_stored_exactly(network):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from refill.subscriptions.usage import Usage, usage_apply

    _, line, _ = network
    # Quotes, backslashes, commas, braces and the word NULL survive the array literals; times keep
    # their microseconds whatever their offset.
    ids = ['a"b', "c\\d", "e,f", "{g}", "NULL", " h "]
    at = datetime(2026, 11, 23, 7, 8, 9, 123457, tzinfo=ZoneInfo("Asia/Shanghai"))
    outcomes = usage_apply([Usage(record_id, MSISDN, "sms", 1, at) for record_id in ids])
    assert [outcome.status for outcome in outcomes] == ["applied"] * len(ids)
    stored = dict(UsageRecord.objects.filter(line=line).values_list("record_id", "occurred_at"))
    assert stored == dict.fromkeys(ids, at)
    again = usage_apply([Usage(record_id, MSISDN, "sms", 1, at) for record_id in ids])
    assert [outcome.status for outcome in again] == ["duplicate"] * len(ids)
