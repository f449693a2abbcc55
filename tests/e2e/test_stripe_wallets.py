"""支付宝 (Alipay) and 微信支付 (WeChat Pay) through Stripe, on a 390 × 844 phone, in both languages,
against localstripe with Refill's extension for the two methods (tests/localstripe_server.py).

Alipay: the customer is sent to Alipay's page (the stand-in's), authorises or refuses there, and
comes back paid, or to their order with why and Try again. WeChat Pay: the QR code is shown on
Refill's own page (inline SVG, and a button that opens WeChat on the phone); the test pays at the
stand-in as the customer's WeChat app would, and the page moves to the receipt by itself; a code
that expired or a payment refused moves it to the order with Try again."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from refill.orders.models import Order
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.localstripe_server import LocalStripe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "wallets-pass-2026"
LANGUAGES = ["en", "zh-hans"]


@pytest.fixture(scope="module")
def localstripe():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def stripe_on(settings, localstripe):
    settings.REFILL_PAYMENT_GATEWAY = "stripe"
    settings.REFILL_STRIPE_SECRET_KEY = LocalStripe.SECRET_KEY
    settings.REFILL_STRIPE_WEBHOOK_SECRET = "whsec_e2e_wallets"
    settings.REFILL_STRIPE_API_BASE = localstripe.url
    return localstripe


def china_customer(language: str):
    market = make_market(
        "cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai",
        tax_rate=Decimal("0.06"), tax_inclusive=True,
    )  # fmt: skip
    plan = make_plan(market, "cn-month", price="88.00", validity_kind="months", validity_count=1,
                     name_en="Monthly Plan", name_zh_hans="月套餐")  # fmt: skip
    customer, user = make_customer(f"wallet-{language}@example.com", language=language, password=PASSWORD,
                                   tz="Asia/Shanghai")  # fmt: skip
    line = make_line(customer, market, plan, msisdn="+8613912345678")
    return customer, user, line


def start_paying(page, base: str, user, line, method: str, language: str) -> Payment:
    log_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/lines/{line.pk}/renew/")
    assert_language(page, language)
    page.get_by_test_id(f"pay-{method}").check()
    page.get_by_test_id("pay").click()
    page.wait_for_load_state()
    return Payment.objects.get(order__line=line, card_brand=method)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("approve", [True, False], ids=["paid", "cancelled"])
def test_alipay_through_stripe_sends_the_customer_to_alipay_and_back(
    live_server, phone_page, shot, stripe_on, language, approve
):
    page, base = phone_page, live_server.url
    customer, user, line = china_customer(language)
    payment = start_paying(page, base, user, line, "alipay", language)

    # then they are on Alipay's page (the stand-in's), and nothing is granted yet
    expect(page.get_by_test_id("stand-in-page")).to_be_visible()
    assert page.url.startswith(stripe_on.url) and payment.provider_reference in page.url
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert Period.objects.filter(line=line).count() == 0
    shot(page, f"stripe-alipay-{language}-1-alipay")

    page.get_by_test_id("stand-in-succeeded" if approve else "stand-in-failed").click()
    order = Order.objects.get(pk=payment.order_id)
    if approve:
        page.wait_for_url(re.compile(rf".*/orders/{order.pk}/confirmation/$"))
        expect(page.get_by_test_id("confirmation")).to_be_visible()
        expect(page.get_by_test_id("amount")).to_contain_text("88.00")
    else:
        page.wait_for_url(re.compile(rf".*/orders/{order.pk}/$"))
        expect(page.get_by_test_id("try-again")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripe-alipay-{language}-2-{'paid' if approve else 'cancelled'}")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == (Payment.Status.SUCCEEDED if approve else Payment.Status.FAILED)
    assert (order.status == Order.Status.PAID) is approve
    assert Period.objects.filter(line=line).count() == (1 if approve else 0)
    assert page.console_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("outcome", ["succeeded", "expired", "failed"])
def test_wechat_pay_shows_the_qr_code_and_the_page_follows_the_payment(
    live_server, phone_page, shot, stripe_on, language, outcome
):
    page, base = phone_page, live_server.url
    customer, user, line = china_customer(language)
    payment = start_paying(page, base, user, line, "wechat_pay", language)
    order = Order.objects.get(pk=payment.order_id)

    # then the QR code is on Refill's own page, drawn inline, with the button that opens WeChat
    page.wait_for_url(re.compile(rf".*/orders/{order.pk}/payment-return/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("pay-qr-code").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("pay-qr-amount")).to_contain_text("88.00")
    expect(page.get_by_test_id("pay-qr-open-app")).to_be_visible()
    assert page.get_by_test_id("pay-qr-open-app").get_attribute("href").startswith("weixin://")
    expect(page.get_by_test_id("pay-qr-waiting")).to_be_visible()
    box = page.get_by_test_id("pay-qr-code").locator("svg").bounding_box()
    assert box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, f"stripe-wechat-{language}-1-qr")

    # when the customer pays (or the code runs out) in WeChat, the page moves on by itself
    stripe_on.wallet_pays("wechat_pay", payment.provider_reference, outcome)
    if outcome == "succeeded":
        page.wait_for_url(re.compile(rf".*/orders/{order.pk}/confirmation/$"))
        expect(page.get_by_test_id("confirmation")).to_be_visible()
    else:
        page.wait_for_url(re.compile(rf".*/orders/{order.pk}/$"))
        expect(page.get_by_test_id("try-again")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripe-wechat-{language}-2-{outcome}")
    order.refresh_from_db()
    assert (order.status == Order.Status.PAID) is (outcome == "succeeded")
    assert Period.objects.filter(line=line).count() == (1 if outcome == "succeeded" else 0)
    assert page.console_errors == []
