"""The 3-D Secure-style step in a phone-sized Chromium: pay, confirm at the (sandbox) bank, return."""

import re

import pytest

from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_renew_with_bank_confirmation(live_server, phone_page, shot):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer("threeds@example.com", password="threeds-pass-2026")
    line = make_line(customer, market, plan, msisdn="+12025550123")
    page = phone_page
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", "threeds@example.com")
    page.fill("input[name=password]", "threeds-pass-2026")
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/lines/$"))
    page.get_by_test_id("renew").first.click()
    page.fill("input[name=card_number]", "4000 0000 0000 3162")
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/sandbox/confirm/.*"))
    assert "$25.00" in page.get_by_test_id("bank-page").inner_text()
    shot(page, "three-d-secure-bank")
    page.get_by_test_id("bank-approve").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert "Renewal confirmed" in page.content()
    assert Period.objects.filter(line=line).count() == 1
