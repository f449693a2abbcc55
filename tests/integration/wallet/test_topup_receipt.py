"""A wallet top-up's order page and receipt name the item as what it is (a top-up, not a plan) and
word the tax like a renewal's receipt: "Tax 0%", not "Tax included 0%" (new-user trial)."""

import re
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from refill.orders.paying import order_pay_card
from refill.orders.receipts import receipt_context
from refill.orders.topups import order_create_topup
from tests.factories import card_token, login, make_customer, make_market, make_plan

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def paid_topup(client):
    market = make_market()
    make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer()
    order = order_create_topup(customer=customer, market=market, amount=Decimal("20"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=order, token=token, gateway=gateway)
    login(client, user)
    return order


@pytest.mark.parametrize(
    ("language", "plan", "topup", "tax", "included"),
    [("en", "Plan", "Wallet top-up", "Tax 0%", "Tax included"), ("zh-hans", "套餐", "钱包充值", "税费 0%", "含税")],
)
def test_a_top_up_is_not_a_plan_and_its_tax_reads_like_a_renewals(
    client, paid_topup, language, plan, topup, tax, included
):
    paid_topup.customer.preferred_language = language
    paid_topup.customer.save(update_fields=["preferred_language"])
    client.cookies["django_language"] = language
    page = client.get(reverse("portal:order_detail", args=[paid_topup.pk])).content.decode()
    facts = _text(page.split('class="facts"', 1)[1].split("</dl>", 1)[0])
    assert topup in facts and f"{plan} {topup}" not in facts
    assert tax in facts and included not in facts
    with translation.override(language):
        receipt = _text(render_to_string("receipts/receipt.html", receipt_context(paid_topup)))
    assert topup in receipt and tax in receipt and included not in receipt
