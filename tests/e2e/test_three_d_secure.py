"""The 3-D Secure-style step in a phone-sized Chromium, in both languages: pay, confirm at the
(sandbox) bank, return to the confirmation."""

import re

import pytest
from playwright.sync_api import expect

from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan

from .helpers import assert_language, choose_language, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_renew_with_bank_confirmation(live_server, phone_page, shot, language):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    email = f"threeds-{language}@example.com"
    customer, user = make_customer(email, language=language, password="threeds-pass-2026")
    line = make_line(customer, market, plan, msisdn="+12025550123")
    page, base = phone_page, live_server.url
    choose_language(page, base, language)
    log_in(page, base, email, "threeds-pass-2026")
    page.get_by_test_id("renew").first.click()
    page.get_by_test_id("pay-card").check()  # a new card (a Chinese reader is offered 支付宝 first)
    page.fill("input[name=card_number]", "4000 0000 0000 3162")
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/sandbox/confirm/.*"))
    assert "$25.00" in page.get_by_test_id("bank-page").inner_text()
    assert_language(page, language)
    shot(page, f"three-d-secure-{language}-bank")
    page.get_by_test_id("bank-approve").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    assert_language(page, language)
    shot(page, f"three-d-secure-{language}-confirmed")
    assert Period.objects.filter(line=line).count() == 1
