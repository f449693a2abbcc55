"""Partners' keys: ``renew`` renews any held number for its customer (paid by card, the order the
owner's, the owner told); ``vouchers`` redeems PINs onto a number; ``read`` sees the orders the key
placed and nobody else's."""

import json
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.apikeys.services import apikey_create
from refill.ledger.services import wallet_balance
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.vouchers.services import voucher_batch_generate
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    owner, _ = make_customer("owner@example.com")
    line = make_line(owner, market, plan, msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=2)
    line.save(update_fields=["status", "period_end"])
    keys = {
        scope: apikey_create(name=f"Reseller {scope}", scopes=[scope], actor=None)[1]
        for scope in ("renew", "read", "vouchers")
    }
    return owner, line, keys


def call(method, path, key, body=None, idem="p-1"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_IDEMPOTENCY_KEY": idem}
    return getattr(Client(), method)(path, body, content_type="application/json", **headers)


def test_a_partner_renews_for_its_customer(world, django_capture_on_commit_callbacks):
    owner, line, keys = world
    body = {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "card", "card": CARD}
    with django_capture_on_commit_callbacks(execute=True):
        made = call("post", "/api/v1/orders", keys["renew"], body)
    assert made.status_code == 201, made.json()
    order = Order.objects.get(pk=made.json()["id"])
    assert (order.customer, order.payer, order.payer_api_key.name) == (owner, "partner", "Reseller renew")
    assert made.json()["status"] == "paid" and made.json()["msisdn"] == line.msisdn
    told = Notification.objects.get(rule="gift_received", channel="email")
    assert "Reseller renew" in told.subject
    again = call("post", "/api/v1/orders", keys["renew"], body)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    # The key that placed it may read it (with read); another key, or one without read, may not.
    renew_and_read = apikey_create(name="Both", scopes=["renew", "read"], actor=None)[1]
    assert call("get", f"/api/v1/orders/{order.pk}", keys["read"]).status_code == 404
    assert call("get", f"/api/v1/orders/{order.pk}", keys["renew"]).json()["code"] == "scope_missing"
    placed = call("post", "/api/v1/orders", renew_and_read, body, idem="p-2").json()
    assert call("get", f"/api/v1/orders/{placed['id']}", renew_and_read).json()["id"] == placed["id"]
    listed = call("get", "/api/v1/orders", renew_and_read).json()["items"]
    assert [o["id"] for o in listed] == [placed["id"]]


def test_partner_refusals(world):
    owner, line, keys = world
    body = {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "card", "card": CARD}
    assert call("post", "/api/v1/orders", keys["read"], body).json()["code"] == "scope_missing"
    wallet = call("post", "/api/v1/orders", keys["renew"], {**body, "pay_with": "wallet"})
    assert wallet.status_code == 422 and wallet.json()["code"] == "order_not_payable"
    unknown = call("post", "/api/v1/orders", keys["renew"], {**body, "msisdn": "+12025550100"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "number_not_found"
    assert not Order.objects.exists()


def test_a_partner_redeems_a_pin_onto_a_number(world):
    owner, line, keys = world
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    body = {"pin": pins[0][1], "gift_msisdn": line.msisdn}
    assert call("post", "/api/v1/vouchers/redeem", keys["renew"], body).json()["code"] == "scope_missing"
    nowhere = call("post", "/api/v1/vouchers/redeem", keys["vouchers"], {"pin": pins[0][1]})
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "number_not_found"
    redeemed = call("post", "/api/v1/vouchers/redeem", keys["vouchers"], body)
    assert redeemed.status_code == 200, redeemed.json()
    assert redeemed.json()["credited_msisdn"] == line.msisdn and redeemed.json()["wallet_balance"] is None
    assert wallet_balance(owner, "USD") == Decimal("10.00")


def test_a_partner_renewal_takes_its_customers_code_and_partner_offers(world):
    from refill.promotions.models import Promotion

    owner, line, keys = world
    start = timezone.now() - timedelta(days=1)
    Promotion.objects.create(market=line.market, name_en="Resellers", name_zh_hans="代理商", kind="amount_off",
                             amount=Decimal(1), channels=["api"], exclusive=False, starts_at=start)  # fmt: skip
    Promotion.objects.create(market=line.market, code="FIVE", name_en="Five", name_zh_hans="五", kind="amount_off",
                             amount=Decimal(5), exclusive=False, starts_at=start, priority=200)  # fmt: skip
    body = {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "card", "card": CARD, "promotion_code": "five"}
    made = call("post", "/api/v1/orders", keys["renew"], body)
    assert made.status_code == 201, made.json()
    assert (made.json()["discount"], made.json()["total"]) == ("6.00", "19.00")
    assert [p["name"] for p in made.json()["promotions"]] == ["Resellers", "Five"]


@pytest.mark.django_db(transaction=True)
def test_a_partner_calls_over_http_with_its_key_alone(world, live_server, settings):
    """As a partner's server calls: real HTTP, no cookie, no CSRF token, only the bearer key. Each
    POST a key may make is answered by the operation itself, never by a CSRF refusal (all three
    were 403 csrf_failed once)."""
    owner, line, keys = world
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "enabled": False}

    def post(path, key, body, idem):
        request = urllib.request.Request(
            live_server.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}", "Idempotency-Key": idem},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    body = {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "card", "card": CARD}
    status, made = post("/api/v1/orders", keys["renew"], body, "h-1")
    assert (status, made["status"]) == (201, "paid"), made
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    status, redeemed = post(
        "/api/v1/vouchers/redeem", keys["vouchers"], {"pin": pins[0][1], "gift_msisdn": line.msisdn}, "h-2"
    )
    assert (status, redeemed["credited_msisdn"]) == (200, line.msisdn), redeemed
    # The reissue is reached: with no profile in stock, the operation's own answer.
    esim_key = apikey_create(name="Network", scopes=["esim"], actor=None)[1]
    status, reissued = post(f"/api/v1/lines/{line.msisdn}/esim/reissue", esim_key, {}, "h-3")
    assert (status, reissued["code"]) == (503, "esim_out_of_stock"), reissued
    assert wallet_balance(owner, "USD") == Decimal("10.00")
