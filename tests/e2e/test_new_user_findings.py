"""A new user's findings after issue 23 (h13) in a phone-sized Chromium, in both languages: after
a refund ends the line's only paid period the card no longer says it is active; a wallet top-up's
order row; the auto-renew page names the cards; the payment methods page offers no "make backup"
for the default card; the new-number page starts in the customer's own market."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.lines.models import PoolNumber
from refill.orders.paying import order_pay_card
from refill.orders.refunds import order_refund
from refill.orders.topups import order_create_topup
from refill.payments.models import PaymentMethod
from tests.e2e.helpers import assert_language, log_in
from tests.factories import card_token, make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "findings-2026-x"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_what_a_new_user_found_reads_true_on_a_phone(live_server, phone_page, shot, language, monkeypatch):
    monkeypatch.setattr("refill.portal.esim_views.new_lines_can_get_esim", lambda: True)
    page, base = phone_page, live_server.url
    us = make_market()
    cn = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plan = make_plan(us, "us-30day", price="30.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    make_plan(cn, "cn-month", price="50.00")
    for msisdn, market in (("+12025550171", us), ("+8613800000171", cn)):
        PoolNumber.objects.create(msisdn=msisdn, market=market, status="available", available_since=timezone.now())
    customer, user = make_customer(f"finder-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, us, plan, msisdn="+12025550172")
    order, _ = renew(line, plan)
    order_refund(
        order=order, amount=Decimal("30.00"), destination="original", reason_code="wrong_plan", idempotency_key="r"
    )
    topup = order_create_topup(customer=customer, market=us, amount=Decimal("20.00"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=topup, token=token, gateway=gateway)
    PaymentMethod.objects.create(
        customer=customer, gateway="sandbox", token="t1", brand="visa", last4="4242", exp_month=12, exp_year=2039,
        is_default=True,
    )  # fmt: skip

    log_in(page, base, user.email, PASSWORD)
    assert_language(page, language)
    expect(page.get_by_test_id("status").first).not_to_have_text("Active" if language == "en" else "正常")
    shot(page, f"findings-{language}-1-line-after-refund")

    page.goto(f"{base}/orders/")
    expect(page.get_by_test_id("order").first).to_be_visible()
    shot(page, f"findings-{language}-2-orders")

    page.goto(f"{base}/lines/{line.pk}/auto-renew/")
    expect(page.locator("label[for=id_use_default_method]")).to_contain_text("4242")
    shot(page, f"findings-{language}-3-auto-renew")

    page.goto(f"{base}/payment-methods/")
    expect(page.get_by_test_id("method-default")).to_be_visible()
    expect(page.get_by_test_id("make-backup")).to_have_count(0)
    shot(page, f"findings-{language}-4-payment-methods")

    page.goto(f"{base}/lines/new/")
    expect(page.get_by_test_id("market")).to_have_value("us")
    shot(page, f"findings-{language}-5-new-number")
    assert page.console_errors == []
