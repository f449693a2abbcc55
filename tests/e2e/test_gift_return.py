"""The guest's own page after the bank's step of a gift refill, in a phone-sized Chromium, in both
languages, for what tests/e2e/test_gift_refill.py leaves out: money for the number's wallet
(approved, then the page loaded again: paid once) and a payment the guest declines at the bank
(nothing charged, nothing given, the same answer after a reload).

There is no page to start a gift from yet: a gift is asked for through ``POST /api/v1/refills``
(as the partner's or a public page's script would), so these journeys start there too."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urljoin

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment
from tests.e2e.helpers import assert_language, choose_language
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BANK_STEP_CARD = {"number": "4000000000003162", "exp_month": 12, "exp_year": 2039, "cvc": "123"}


def ask_for_a_gift(page, base: str, key: str) -> dict:
    answer = page.request.post(
        base + "/api/v1/refills",
        data={"msisdn": "+1 202 555 0198", "amount": "15.00", "card": BANK_STEP_CARD},
        headers={"Idempotency-Key": key},
    )
    assert answer.status == 201, answer.text()
    gift = answer.json()
    assert gift["payment"]["status"] == "requires_action"
    return gift


@pytest.fixture
def owner():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, _ = make_customer("gift-return-owner@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550198")
    # A number in service (a new line that was never paid cannot be refilled by a stranger).
    type(line).objects.filter(pk=line.pk).update(status="active", period_end=timezone.now() + timedelta(days=5))
    return customer


@pytest.mark.parametrize("decision", ["approve", "decline"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_guest_sees_how_a_wallet_gift_ended(live_server, phone_page, shot, owner, language, decision):
    page, base = phone_page, live_server.url

    # given a guest, in their language, who gives 15.00 to the number's wallet
    choose_language(page, base, language)
    gift = ask_for_a_gift(page, base, f"gift-return-{language}-{decision}")

    # when they approve, or decline, at their bank
    page.goto(urljoin(base, gift["payment"]["next_url"]))
    assert_language(page, language)
    expect(page.get_by_test_id("bank-page")).to_contain_text("15.00")
    page.get_by_test_id(f"bank-{decision}").click()

    # then their own page says how it ended, and says the same when loaded again
    page.wait_for_url(re.compile(r".*/refills/[^/]+/$"))
    for visit in (1, 2):
        if visit == 2:
            page.reload()
        assert_language(page, language)
        expect(page.get_by_test_id("gift-return")).to_be_visible()
        expect(page.get_by_test_id("gift-number")).to_have_text("+1 202-555-0198")
        expect(page.get_by_test_id("gift-amount")).to_contain_text("15.00")
        expect(page.get_by_test_id("gift-declined")).to_have_count(1 if decision == "decline" else 0)
        shot(page, f"gift-return-{decision}-{language}-{visit}")

    order = Order.objects.get(pk=gift["id"])
    paid = decision == "approve"
    assert (order.status == Order.Status.PAID) is paid
    assert order.payments.filter(status=Payment.Status.SUCCEEDED).count() == (1 if paid else 0)
    assert wallet_balance(owner, "USD") == (Decimal("15.00") if paid else Decimal("0.00"))
    assert page.console_errors == []
