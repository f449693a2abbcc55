"""The wallet in a phone-sized Chromium, in both languages: redeem a refill PIN, renew paying from
the wallet, download the receipt as a PDF, give a PIN's value to another number, and turn on
auto-renew with spending caps."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.renewals.models import AutoRenew
from refill.subscriptions.models import Period
from refill.vouchers.services import voucher_batch_generate
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "wallet-pass-2026"


def redeem(page, pin: str, gift_msisdn: str = "") -> None:
    page.get_by_test_id("redeem-link").click()
    page.fill("input[name=pin]", pin)
    if gift_msisdn:
        page.fill("input[name=gift_msisdn]", gift_msisdn)
    page.get_by_test_id("redeem").click()
    page.wait_for_url(re.compile(r".*/wallet/$"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pin_wallet_renewal_receipt_and_gift(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"wallet-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550181")
    friend, _ = make_customer(f"friend-{language}@example.com")
    make_line(friend, market, plan, msisdn="+12025550182")
    _, pins = voucher_batch_generate(count=2, face_value="30.00", currency="USD")
    (_, pin), (_, gift_pin) = pins

    # given the customer logged in, they redeem a refill PIN into their wallet
    log_in(page, base, user.email, PASSWORD)
    assert_language(page, language)
    page.goto(base + "/wallet/")
    redeem(page, pin)
    expect(page.get_by_test_id("wallet-balance-USD")).to_contain_text("30.00")
    shot(page, f"wallet-{language}-1-redeemed")

    # when they renew, the wallet is offered first because it covers the price
    page.goto(base + "/lines/")
    page.get_by_test_id("renew").first.click()
    expect(page.get_by_test_id("pay-wallet")).to_be_checked()
    expect(page.get_by_test_id("total")).to_contain_text("25.00")
    shot(page, f"wallet-{language}-2-renew")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("amount")).to_contain_text("25.00")
    shot(page, f"wallet-{language}-3-confirmed")
    order = Order.objects.get(customer=customer, status=Order.Status.PAID)
    assert list(Payment.objects.filter(order=order, status="succeeded").values_list("method", flat=True)) == ["wallet"]
    assert Period.objects.filter(line=line).count() == 1
    assert wallet_balance(customer, "USD") == Decimal("5.00")

    # then the order's receipt downloads as a PDF
    page.goto(f"{base}/orders/{order.pk}/")
    shot(page, f"wallet-{language}-4-order")
    href = page.get_by_test_id("receipt-pdf").get_attribute("href")
    assert href == f"/orders/{order.pk}/receipt.pdf"
    response = page.request.get(base + href)  # the browser context's session cookie
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    # and they give a second PIN's value to a friend's number
    page.goto(base + "/wallet/")
    expect(page.get_by_test_id("wallet-balance-USD")).to_contain_text("5.00")
    redeem(page, gift_pin, gift_msisdn="+1 202-555-0182")
    expect(page.locator(".message")).to_contain_text("+1 202-555-0182")
    shot(page, f"wallet-{language}-5-gift")
    assert wallet_balance(friend, "USD") == Decimal("30.00")
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_turn_on_auto_renew_with_a_cap(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"auto-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550183")
    renew(line, plan)

    # given the customer logged in, on their line's auto-renew page
    log_in(page, base, user.email, PASSWORD)
    page.get_by_test_id("auto-renew").first.click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/auto-renew/$"))
    assert_language(page, language)
    # it says when the next renewal would be, of which plan, for how much
    expect(page.get_by_test_id("next-renewal-plan")).to_have_text(plan.name_en if language == "en" else "30天套餐")
    expect(page.get_by_test_id("next-renewal-amount")).to_contain_text("25.00")
    # no backup card is offered to a customer who has none
    expect(page.locator("input[name=use_backup_method]")).to_have_count(0)
    # each checkbox sits beside its label, on the same row
    for name in ("enabled", "use_wallet", "use_default_method", "retention_fallback"):
        box = page.locator(f"input[name={name}]").bounding_box()
        label = page.locator(f"label[for=id_{name}]").bounding_box()
        assert label["x"] > box["x"] + box["width"] - 1, name
        assert label["y"] < box["y"] + box["height"] and box["y"] < label["y"] + label["height"], name

    # when they first set a cap below the plan's price, it is refused, naming the price
    page.check("input[name=enabled]")
    page.fill("input[name=cap_per_renewal]", "20")
    page.get_by_test_id("auto-renew-save").click()
    expect(page.get_by_test_id("error-cap_per_renewal")).to_contain_text("25.00")
    assert not AutoRenew.objects.filter(line=line).exists()
    shot(page, f"autorenew-{language}-0-refused")

    # then with a cap per renewal and per month that fit
    page.check("input[name=enabled]")
    page.fill("input[name=cap_per_renewal]", "30")
    page.fill("input[name=cap_per_month]", "60")
    shot(page, f"autorenew-{language}-1-form")
    page.get_by_test_id("auto-renew-save").click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/auto-renew/$"))

    # the settings are kept and shown again, in the currency's minor unit, after a reload
    settings = AutoRenew.objects.get(line=line)
    assert settings.enabled and (settings.cap_per_renewal, settings.cap_per_month) == (Decimal(30), Decimal(60))
    assert settings.use_backup_method is False
    page.reload()
    expect(page.locator("input[name=enabled]")).to_be_checked()
    expect(page.locator("input[name=cap_per_renewal]")).to_have_value("30.00")
    expect(page.locator("input[name=cap_per_month]")).to_have_value("60.00")
    expect(page.get_by_test_id("next-renewal-at")).to_be_visible()
    shot(page, f"autorenew-{language}-2-saved")
    page.goto(base + "/lines/")
    assert_language(page, language)
    # The refused cap was answered 400 by design (the form with its error); nothing else failed.
    assert [error for error in page.console_errors if "status of 400" not in error] == []
