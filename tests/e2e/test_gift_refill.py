"""A guest without an account gives a refill to someone's number, in a phone-sized Chromium, in
both languages: the gift is asked for through the API (as the partner's or the public page's
script would), the guest confirms the payment at the (sandbox) bank, and comes back to a page of
their own that shows how it ended and nothing about the number's owner."""

import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.orders.models import Order
from refill.subscriptions.models import Period
from tests.e2e.helpers import assert_language, choose_language
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BANK_STEP_CARD = {"number": "4000000000003162", "exp_month": 12, "exp_year": 2039, "cvc": "123"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_guest_gives_a_plan_to_a_number(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    owner, _ = make_customer(f"gift-owner-{language}@example.com")
    owner.display_name = "Alice Example"
    owner.save()
    line = make_line(owner, market, plan, msisdn="+12025550143")
    type(line).objects.filter(pk=line.pk).update(status="active", period_end=timezone.now() + timedelta(days=5))

    # given a guest, in their language, who asks for a 30-day plan for the number
    choose_language(page, base, language)
    answer = page.request.post(
        base + "/api/v1/refills",
        data={"msisdn": "+1 202 555 0143", "plan": "us-30day", "periods": 1, "card": BANK_STEP_CARD},
        headers={"Idempotency-Key": f"gift-{language}"},
    )
    assert answer.status == 201, answer.text()
    gift = answer.json()
    assert gift["status"] == "awaiting_payment" and gift["payment"]["status"] == "requires_action"

    # when they confirm the payment at their bank
    page.goto(urljoin(base, gift["payment"]["next_url"]))
    expect(page.get_by_test_id("bank-page")).to_contain_text("25.00")
    shot(page, f"gift-{language}-1-bank")
    page.get_by_test_id("bank-approve").click()

    # then the bank sends them back to their own page: paid, and nothing about the owner
    page.wait_for_url(re.compile(r".*/refills/[^/]+/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("gift-number")).to_have_text("+1 202-555-0143")
    expect(page.get_by_test_id("gift-amount")).to_contain_text("25.00")
    expect(page.get_by_test_id("gift-declined")).to_have_count(0)
    assert "Alice Example" not in page.content()
    shot(page, f"gift-{language}-2-paid")
    order = Order.objects.get(pk=gift["id"])
    assert order.status == Order.Status.PAID and order.customer_id == owner.pk
    assert Period.objects.filter(line=line).count() == 1
    assert page.console_errors == []
