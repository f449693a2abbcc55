"""Refill any number (issue 26, a new user's trial): the Pay button says what will be charged, for
the plan and periods chosen (or the amount), on the page the server sends and in the fragment the
page swaps in when the choice changes; a form sent without a plan puts "Choose a plan." in the
error summary at the top of the form, as the card fields' errors are."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from refill.formatting import money_text
from refill.orders.models import Order
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db
NUMBER = "+12025550143"
CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}


@pytest.fixture
def line():
    us = make_market(tax_rate=Decimal("0.10"), tax_inclusive=False)
    plan = make_plan(us, "us-30day", price="25.00")
    make_plan(us, "us-week", price="7.00")
    owner, _ = make_customer("owner@example.com")
    line = make_line(owner, us, plan, msisdn=NUMBER)
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    return line


def _label(html: str) -> str:
    found = re.search(r'<span id="pay-label"[^>]*>(.*?)</span>', html, re.S)
    assert found, "no pay label"
    return found.group(1).strip()


def _pay(language: str, amount: str) -> str:
    with translation.override(language):
        return translation.gettext("Pay %(amount)s") % {"amount": money_text(Decimal(amount), "USD")}


def _checkout(client):
    page = client.post("/refill/", {"msisdn": NUMBER}).content.decode()
    return page, re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pay_button_says_the_amount_of_the_choice(line, client, language):
    client.cookies["refill_language"] = language
    page, key = _checkout(client)
    with translation.override(language):
        assert _label(page) == translation.gettext("Pay")  # nothing chosen yet
    # the fragment the page swaps in when the plan, the periods or the amount change (tax added: 10%)
    quote = "/refill/pay-label/"
    assert _label(client.get(quote, {"msisdn": NUMBER, "gift": "us-30day", "periods": "2"}).content.decode()) == _pay(
        language, "55.00"
    )
    assert _label(client.get(quote, {"msisdn": NUMBER, "gift": "us-week"}).content.decode()) == _pay(language, "7.70")
    assert _label(client.get(quote, {"msisdn": NUMBER, "gift": "amount", "amount": "12.5"}).content.decode()) == _pay(
        language, "12.50"
    )
    for nothing in ({"gift": "us-boost"}, {"gift": "amount", "amount": "x"}, {"gift": "amount", "amount": "-1"}, {}):
        with translation.override(language):
            assert _label(client.get(quote, {"msisdn": NUMBER, **nothing}).content.decode()) == translation.gettext(
                "Pay"
            )
    assert client.get(quote, {"msisdn": "+12025550999", "gift": "us-week"}).status_code == 404
    # without script: the page the server sends back keeps the choice and says its amount
    data = {"msisdn": NUMBER, "idempotency_key": key, "gift": "us-30day", "periods": "2", "pay_with": "card"}
    again = client.post("/refill/pay/", {**data, **CARD, "card_cvc": ""}).content.decode()
    assert _label(again) == _pay(language, "55.00")
    assert not Order.objects.exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_plan_chosen_is_said_at_the_top_of_the_form(line, client, language):
    client.cookies["refill_language"] = language
    _, key = _checkout(client)
    response = client.post("/refill/pay/", {"msisdn": NUMBER, "idempotency_key": key, "pay_with": "card", **CARD})
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(
        r'<div class="error-summary"[^>]*data-testid="refill-error-summary"[^>]*>(.*?)</div>', html, re.S
    )
    assert summary and "hidden" not in summary.group(0).split(">")[0]
    with translation.override(language):
        assert translation.gettext("Choose a plan.") in summary.group(1)
    # it links to the first choice, and it comes first in the form
    first = re.search(r'<input type="radio" id="([^"]+)" name="gift"', html).group(1)
    assert f'href="#{first}"' in summary.group(1)
    form = html[html.index('data-testid="refill-form"') :]
    assert form.index('data-testid="refill-error-summary"') < form.index('name="gift"')
    assert not Order.objects.exists()
