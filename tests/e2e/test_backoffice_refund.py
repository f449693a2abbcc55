"""A finance staff member refunds part of an order in a desktop Chromium, in both languages: log in
with a password and a TOTP code, find the order on the customer's page, refund part of it to the
card it was paid with, and see the refund and what can still be refunded."""

import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from refill.audit.models import AuditEvent
from refill.customers.models import User
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "finance-pass-2026-x"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_finance_refunds_part_of_an_order(live_server, desktop_page, shot, language):
    page, base = desktop_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"refunded-{language}@example.com")
    order, _ = renew(make_line(customer, market, plan, msisdn="+12025550191"), plan)
    email = f"finance-{language}@example.com"
    staff = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="finance"))
    EmailAddress.objects.create(user=staff, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    customer_page = f"/backoffice/customers/{customer.pk}/"

    # given the finance staff member logs in, in their language, with a password and a TOTP code
    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url=customer_page, secret=secret)
    assert_language(page, language)
    expect(page.get_by_test_id("orders")).to_contain_text("25.00")
    shot(page, f"refund-{language}-1-customer")

    # when they open the orders (closed until asked for), the order's refund page, and refund 10.00 to the card
    page.get_by_test_id("orders").locator("summary").click()
    page.get_by_test_id(f"refund-{order.pk}").click()
    page.wait_for_url(re.compile(rf".*/backoffice/orders/{order.pk}/refund/$"))
    expect(page.get_by_test_id("refundable")).to_contain_text("25.00")
    page.fill("input[name=amount]", "10.00")
    page.select_option("select[name=destination]", "original")
    page.select_option("select[name=reason_code]", "service_problem")
    page.fill("input[name=note]", "charged for a day without service")
    shot(page, f"refund-{language}-2-form")
    page.get_by_test_id("refund-submit").click()
    page.wait_for_url(re.compile(rf".*/backoffice/orders/{order.pk}/refund/$"))

    # then the refund is listed as done and 15.00 can still be refunded
    expect(page.get_by_test_id("refund-row")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("refundable")).to_contain_text("15.00")
    shot(page, f"refund-{language}-3-refunded")
    refund = order.refunds.get()
    assert (refund.amount, refund.status) == (Decimal("10.00"), "succeeded")
    assert AuditEvent.objects.filter(action="refund.succeeded", actor_label=email).exists()
    assert page.console_errors == []
