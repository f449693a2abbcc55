"""A customer of the China market renews with 支付宝 (Alipay) on a 390 × 844 phone: the way they
pay comes before cards, named as they know it; the provider's page (the sandbox's stand-in) asks
them to approve the amount, and they come back to the confirmation, in their language.

The demo's Chinese customer (li.wei@example.com: zh-hans, Asia/Shanghai, a line on the monthly
plan) and an English reader of the same market, who gets the market's order too."""

import re
from decimal import Decimal

import pytest
from django.utils import translation
from playwright.sync_api import expect

from refill.integrations.payments.base import CardDetails
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "alipay-pass-2026"
GB = 1024


def china_customer(language: str):
    """The demo's China market and plans, and a customer like 李伟 whose line was paid last month by
    a card typed then (not saved: nothing to offer again)."""
    market = make_market(
        "cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai",
        tax_rate=Decimal("0.06"), tax_inclusive=True,
    )  # fmt: skip
    make_plan(market, "cn-30day", price="68.00", data_mb=30 * GB, voice_minutes=500, sms=200,
              name_en="30-Day Plan", name_zh_hans="30天套餐")  # fmt: skip
    month = make_plan(market, "cn-month", price="88.00", validity_kind="months", validity_count=1, data_mb=40 * GB,
                      voice_minutes=1000, sms=300, name_en="Monthly Plan", name_zh_hans="月套餐")  # fmt: skip
    customer, user = make_customer(f"li-{language}@example.com", language=language, password=PASSWORD,
                                   tz="Asia/Shanghai")  # fmt: skip
    line = make_line(customer, market, month, msisdn="+8613912345678")
    order = order_create_renewal(customer=customer, line=line, plan=month, periods=1, idempotency_key="seed")
    order_pay(order=order, pay_with=PayWith(card=CardDetails("4242424242424242", 12, 2039, "123")))
    line.refresh_from_db()
    return customer, user, line


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_china_customer_pays_with_alipay_and_comes_back_paid(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    customer, user, line = china_customer(language)
    end_before = line.period_end

    # given the customer on their renew page
    log_in(page, base, user.email, PASSWORD)
    page.get_by_test_id("renew").first.click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/renew/$"))
    assert_language(page, language)

    # then 支付宝 and 微信支付 come before cards, 支付宝 chosen, named in the customer's language
    offered = page.locator("input[name=pay_with]").evaluate_all("inputs => inputs.map(i => i.value)")
    assert offered.index("alipay") < offered.index("wechat_pay") < offered.index("card"), offered
    assert offered[0] == "alipay"
    expect(page.get_by_test_id("pay-alipay")).to_be_checked()
    with translation.override(language):
        expect(page.get_by_test_id("option-pay-alipay")).to_have_text(translation.gettext("Alipay"))
        expect(page.get_by_test_id("option-pay-wechat_pay")).to_have_text(translation.gettext("WeChat Pay"))
    expect(page.locator("input[name=card_number]")).to_be_hidden()  # no card to type
    expect(page.get_by_test_id("total")).to_contain_text("88.00")
    shot(page, f"alipay-{language}-1-renew")

    # when they pay, the provider's page asks them to approve the amount, in their language
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/sandbox/.*"))
    expect(page.get_by_test_id("bank-page")).to_be_visible()
    assert_language(page, language)
    expect(page.get_by_test_id("bank-page")).to_contain_text("88.00")
    payment = Payment.objects.get(order__customer=customer, status=Payment.Status.REQUIRES_ACTION)
    assert payment.card_brand == "alipay"
    assert Period.objects.filter(line=line).count() == 1  # nothing granted before the approval
    shot(page, f"alipay-{language}-2-provider")

    # and they approve: back to the confirmation, paid, in their language
    page.get_by_test_id("bank-approve").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_contain_text("88.00")
    shot(page, f"alipay-{language}-3-confirmed")
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.PAID
    payment.refresh_from_db()
    assert (payment.status, payment.card_brand, payment.amount) == (Payment.Status.SUCCEEDED, "alipay", Decimal("88"))
    line.refresh_from_db()
    assert line.period_end > end_before and Period.objects.filter(line=line).count() == 2

    # and next time, 支付宝 is their last used way: first, chosen and said so
    page.goto(f"{base}/lines/{line.pk}/renew/")
    expect(page.get_by_test_id("pay-alipay")).to_be_checked()
    expect(page.get_by_test_id("option-pay-alipay").get_by_test_id("last-used")).to_be_visible()
    assert page.console_errors == []
