"""Promotions through the API: the quote shows the offers before ordering, POST /orders takes a
promotion code, and a code that does not apply says why in the caller's language."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.orders.models import Order
from refill.promotions.models import Promotion, Redemption
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}


def promotion(market, **fields) -> Promotion:
    values = dict(market=market, name_en="Autumn offer", name_zh_hans="秋季优惠", kind="percent_off",
                  percent=Decimal(10), exclusive=False, starts_at=timezone.now() - timedelta(days=1))  # fmt: skip
    return Promotion.objects.create(**{**values, **fields})


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("promo-api@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550188")
    client = Client()
    login(client, user)
    return client, market, line


def quote(client, line, **params):
    return client.get(f"/api/v1/lines/{line.msisdn}/quote", {"plan": "us-30day", **params})


def test_the_quote_shows_the_automatic_offer_and_a_code(world):
    client, market, line = world
    promotion(market, priority=10)
    promotion(market, code="DATA", kind="bonus_allowance", bonus_data_mb=2048, name_en="Double data", priority=20)
    plain = quote(client, line).json()
    assert (plain["subtotal"], plain["discount"], plain["total"]) == ("25.00", "2.50", "22.50")
    assert plain["promotions"] == [{"name": "Autumn offer", "code": "", "discount": "2.50", "gives": []}]
    assert plain["promotion_code_problem"] is None
    coded = quote(client, line, promotion_code="data").json()
    assert coded["promotions"][1] == {
        "name": "Double data",
        "code": "DATA",
        "discount": "0.00",
        "gives": ["Bonus: 2 GB"],
    }
    assert not Redemption.objects.exists()  # a quote holds nothing


def test_a_code_that_does_not_apply_is_explained_in_the_callers_language(world):
    client, market, line = world
    promotion(market, code="LATER", starts_at=timezone.now() + timedelta(days=2))
    line.owner.preferred_language = "zh-hans"  # a customer's answers are in their own language
    line.owner.save()
    answer = quote(client, line, promotion_code="later").json()
    assert answer["promotion_code_problem"] == {"code": "promotion_refused", "detail": "此优惠活动尚未开始。"}
    assert answer["total"] == "25.00"
    unknown = quote(client, line, promotion_code="nope").json()
    assert unknown["promotion_code_problem"]["code"] == "promotion_unknown"
    refused = client.post(
        "/api/v1/orders",
        {"msisdn": line.msisdn, "plan": "us-30day", "card": CARD, "promotion_code": "later"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="p-1",
    )
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["reason"]) == ("promotion_refused", "not_started")
    assert not Order.objects.exists()


def test_an_order_with_a_code_is_paid_at_the_price_quoted(world):
    client, market, line = world
    promotion(market, code="FIVE", kind="amount_off", amount=Decimal(5))
    shown = quote(client, line, promotion_code="five").json()
    body = {"msisdn": line.msisdn, "plan": "us-30day", "card": CARD, "promotion_code": "five",
            "expected_total": shown["total"]}  # fmt: skip
    created = client.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="p-2")
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["status"], order["discount"], order["total"], order["promotion_code"]) == (
        "paid", "5.00", "20.00", "FIVE",
    )  # fmt: skip
    assert order["payments"][0]["amount"] == "20.00" and order["promotions"][0]["code"] == "FIVE"
    assert Redemption.objects.get().status == "redeemed"
    again = client.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="p-2")
    assert again.json() == order and Order.objects.count() == 1  # the same answer, replayed
