"""Values out of every column's range (a number too big, too small or too fine for its column, a
lone surrogate that no database encodes) are refused as 422/400 problems that name the field, and
write nothing: never a server error (issue 24, item 3)."""

import json

import pytest

from refill.apikeys.services import apikey_create
from refill.orders.models import Order
from refill.payments.models import PaymentMethod
from refill.renewals.models import AutoRenew
from refill.subscriptions.models import UsageRecord
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}
MSISDN = "+12025550143"


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("range@example.com")
    line = make_line(customer, market, plan, msisdn=MSISDN, status="active")
    client = Client()
    login(client, user)
    return client, line


def refused(answer, status=422, field=None):
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status and body["code"] and body["detail"]
    if field is not None:
        assert field in body["detail"], body
        assert any(error["location"][-1] == field for error in body["errors"]), body
    return body


@pytest.mark.parametrize("amount", ["1e400", 1e300, "1e30", "0.00001", "NaN", "Infinity", "-0"])
def test_a_refill_amount_out_of_range_is_a_problem(world, amount):
    client, line = world
    answer = Client().post(
        "/api/v1/refills", {"msisdn": line.msisdn, "amount": amount, "card": CARD}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"range-{amount}",
    )  # fmt: skip
    refused(answer, field="amount")
    assert not Order.objects.exists()


@pytest.mark.parametrize("cap", ["1e30", "1e400", "0.00001", 1e30, "NaN", "-Infinity"])
@pytest.mark.parametrize("field", ["cap_per_renewal", "cap_per_month"])
def test_an_auto_renew_cap_out_of_range_is_a_problem(world, cap, field):
    client, line = world
    answer = client.patch(
        f"/api/v1/lines/{line.msisdn}/auto-renew", {"enabled": True, field: cap}, content_type="application/json"
    )
    refused(answer, field=field)
    assert not AutoRenew.objects.filter(line=line).exists()


@pytest.mark.parametrize(
    "field, value", [("exp_year", 99999999999999999999), ("exp_month", -(2**70)), ("exp_year", 2**63)]
)
def test_a_card_expiry_out_of_range_is_a_problem(world, field, value):
    client, line = world
    answer = client.post("/api/v1/payment-methods", {**CARD, field: value}, content_type="application/json")
    refused(answer, field=field)
    assert not PaymentMethod.objects.exists()


def test_a_usage_amount_past_the_column_refuses_the_batch_naming_the_record(world):
    _, line = world
    _, key = apikey_create(name="Network", kind="network", scopes=["usage:write"], actor=None)
    network = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    record = {"record_id": "r1", "msisdn": MSISDN, "kind": "data", "timestamp": "2026-12-01T00:00:00Z"}
    answer = network.post(
        "/api/v1/usage-records",
        {"records": [{**record, "amount": 5}, {**record, "record_id": "r2", "amount": 2**63}]},
        content_type="application/json",
    )
    body = refused(answer, field="amount")
    assert [error["location"][-3:] for error in body["errors"]] == [["records", "1", "amount"]]
    assert not UsageRecord.objects.exists()


@pytest.mark.parametrize("text", ['"\\ud800"', '"+1202\\udfff5550143"', '"\\ud800\\u0041"'])
def test_a_lone_surrogate_is_refused_as_a_bad_request(world, text):
    client, line = world
    card = json.dumps(CARD)
    body = f'{{"msisdn": {text}, "plan": "us-30day", "card": {card}}}'
    answer = Client().post("/api/v1/refills", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="s")
    assert refused(answer, status=400)["code"] == "bad_request"
    assert not Order.objects.exists()


def test_a_pair_of_surrogates_is_one_character_and_welcome(world):
    client, line = world
    answer = client.patch(
        f"/api/v1/lines/{line.msisdn}/auto-renew", '{"enabled": false, "note": "\\ud83d\\ude00"}',
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
