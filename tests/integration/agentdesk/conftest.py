"""Shops, their agents and a customer at the counter, for the agent desk's tests."""

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from refill.agentdesk.models import Shop, ShopAgent
from refill.customers.models import User
from tests.factories import login, make_30day_plan, make_customer, make_line, make_market

SHOP_PIN = "2468"


def make_shop(market, code: str = "main-st", name: str = "Main Street") -> Shop:
    return Shop.objects.create(code=code, name=name, market=market)


def make_agent(shop: Shop | None, email: str = "shop@example.com") -> User:
    agent = User.objects.create_user(email, "x-pass-12345", role=User.Role.AGENT)
    if shop is not None:
        ShopAgent.objects.create(user=agent, shop=shop)
    return agent


def verify_by_pin(client, line, pin: str = SHOP_PIN):
    return client.post(reverse("agentdesk:verify_pin", args=[line.pk]), {"shop_pin": pin}, follow=True)


@pytest.fixture
def market():
    return make_market()


@pytest.fixture
def plan(market):
    return make_30day_plan(market)


@pytest.fixture
def shop(market):
    return make_shop(market)


@pytest.fixture
def customer_line(market, plan):
    customer, _ = make_customer("alice@example.com")
    customer.display_name = "Alice Example"
    customer.shop_pin_hash = make_password(SHOP_PIN)
    customer.save()
    return customer, make_line(customer, market, plan, msisdn="+12025550143")


@pytest.fixture
def agent(client, shop):
    agent = make_agent(shop)
    login(client, agent)
    return agent


def renew_at_counter(client, line, plan, *, pay: str = "cash", key: str = "form-1", total: str = "25.00", **extra):
    """Submit the counter's renewal form (one period of ``plan``, the price shown ``total``)."""
    data = {"plan": plan.code, "periods": "1", "action": pay, "idempotency_key": key, "expected_total": total}
    if pay == "card":
        data.update(card_number="4242 4242 4242 4242", card_expiry="12/39", card_cvc="123")
    data.update(extra)
    return client.post(reverse("agentdesk:renew", args=[line.pk]), data)


def topup_at_counter(client, line, amount: str = "20.00", key: str = "topup-1"):
    return client.post(reverse("agentdesk:cash_topup", args=[line.pk]), {"amount": amount, "idempotency_key": key})
