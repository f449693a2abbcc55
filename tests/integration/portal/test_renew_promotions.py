"""The renewal page with promotions: the price panel shows the offers and why a code does not apply,
and paying with a code that no longer applies makes no order and charges nothing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.orders.models import Order
from refill.payments.models import Payment
from refill.promotions.models import Promotion
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db


def offer(market, **fields) -> Promotion:
    values = dict(market=market, exclusive=False, name_en="Offer", name_zh_hans="优惠", kind="percent_off",
                  percent=Decimal(20), starts_at=timezone.now() - timedelta(days=1))  # fmt: skip
    return Promotion.objects.create(**{**values, **fields})


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("promo-page@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550144")
    login(client, user)
    return market, line


def quote(client, line, **params):
    return client.get(reverse("portal:renew_quote", args=[line.pk]), {"plan": "us-30day", "periods": 1, **params})


def test_the_price_panel_shows_a_code_and_its_refusals(client, world):
    market, line = world
    offer(market, code="TWENTY", name_en="Twenty off")
    panel = quote(client, line, promotion_code=" twenty ").content.decode()
    assert "Twenty off" in panel and "−$5.00" in panel and "$20.00" in panel
    assert 'id="pay-label" hx-swap-oob="true"' in panel and "Pay $20.00" in panel
    unknown = quote(client, line, promotion_code="NOPE").content.decode()
    assert "We do not recognise this promotion code" in unknown and 'name="expected_total" value="25.00' in unknown


def test_paying_with_a_code_that_ran_out_makes_no_order(client, world):
    market, line = world
    twenty = offer(market, code="TWENTY")
    page = client.get(reverse("portal:renew", args=[line.pk]), {"promotion_code": "twenty"}).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    expected = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    assert Decimal(expected) == Decimal("20.00")
    twenty.paused = True  # staff paused it meanwhile
    twenty.save()
    form = {"plan": "us-30day", "periods": 1, "idempotency_key": key, "expected_total": expected,
            "promotion_code": "twenty", "card_number": "4242 4242 4242 4242", "card_expiry": "12/39",
            "card_cvc": "123", "pay_with": "card", "action": "pay"}  # fmt: skip
    answer = client.post(reverse("portal:renew", args=[line.pk]), form)
    assert answer.status_code == 409 and "This promotion is paused at the moment." in answer.content.decode()
    assert not Order.objects.exists() and not Payment.objects.exists()
    # Without the code, the order goes through at the full price.
    form.update(promotion_code="", expected_total="25.00")
    paid = client.post(reverse("portal:renew", args=[line.pk]), form)
    assert paid.status_code == 302 and Order.objects.get().total == Decimal("25.00")
