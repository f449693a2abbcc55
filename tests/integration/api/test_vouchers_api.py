import uuid
from decimal import Decimal

import pytest

from refill.ledger.services import wallet_balance
from refill.vouchers.services import voucher_batch_generate
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db

URL = "/api/v1/vouchers/redeem"


@pytest.fixture
def api_client():
    customer, user = make_customer("app@example.com")
    market = make_market()
    make_line(customer, market, make_plan(market), msisdn="+12025550151")
    client = Client()  # a browser page: signed in, sends its CSRF token
    login(client, user)
    # Every redemption carries its own Idempotency-Key (money moves).
    original = client.post
    client.post = lambda *a, **kw: original(*a, **{"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex, **kw})
    return client, customer


def test_redeem_over_the_api(api_client):
    client, customer = api_client
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    response = client.post(URL, {"pin": pins[0][1]}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["amount"] == "10.0000" or Decimal(response.json()["amount"]) == Decimal("10.00")
    assert Decimal(response.json()["wallet_balance"]) == Decimal("10.00")
    again = client.post(URL, {"pin": pins[0][1]}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    assert again.json()["code"] == "voucher_used"
    assert wallet_balance(customer, "USD") == Decimal("10.00")


def test_gift_hides_the_recipients_wallet(api_client):
    client, customer = api_client
    market = make_market()
    friend, _ = make_customer()
    make_line(friend, market, make_plan(market), msisdn="+12025550150")
    _, pins = voucher_batch_generate(count=1, face_value="5.00", currency="USD")
    body = client.post(URL, {"pin": pins[0][1], "gift_msisdn": "+12025550150"}, content_type="application/json").json()
    assert body["credited_msisdn"] == "+12025550150" and body["wallet_balance"] is None


def test_anonymous_and_unknown(api_client):
    client, customer = api_client
    assert Client().post(URL, {"pin": "1"}, content_type="application/json").status_code == 401
    unknown = client.post(URL, {"pin": "1234123412341234"}, content_type="application/json")
    assert unknown.status_code == 422 and "recognise" in unknown.json()["detail"]


def test_openapi_lists_the_endpoint(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/vouchers/redeem" in schema["paths"]
