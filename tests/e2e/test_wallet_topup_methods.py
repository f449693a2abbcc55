"""The wallet top-up offers more than a new card, on a 390 × 844 phone in both languages: a returning
US customer tops up with the saved card they used last (nothing typed but the amount); a Chinese
customer of the China market finds 支付宝 and 微信支付 first and tops up with 微信支付 through the
provider's page and back. The card fields open only for a new card."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import Payment
from refill.payments.services import method_add
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "topup-ways-2026"
CARD = CardDetails("4242424242424242", 12, 2039, "123")

MARKETS = {
    "en": dict(code="us", currency="USD", msisdn="+12025550177", amount="20", wallet="$20.00"),
    "zh-hans": dict(code="cn", currency="CNY", msisdn="+8613912345677", amount="100", wallet="100.00"),
}


def customer_of(language: str):
    """A US customer (English) who saved the card they last paid with, or a Chinese customer of the
    China market who has saved nothing."""
    spec = MARKETS[language]
    if spec["code"] == "us":
        market = make_market()
    else:
        market = make_market(
            "cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai",
            tax_rate=Decimal("0.06"), tax_inclusive=True,
        )  # fmt: skip
    plan = make_plan(market, f"{spec['code']}-30day", price="25.00")
    customer, user = make_customer(f"topup-ways-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn=spec["msisdn"])
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="seed")
    method = None
    if spec["code"] == "us":
        method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
        order_pay(order=order, pay_with=PayWith(saved_method=method))
    else:
        order_pay(order=order, pay_with=PayWith(card=CARD))
    return customer, user, method


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_top_up_with_a_saved_card_or_the_markets_payment_app(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    spec = MARKETS[language]
    customer, user, method = customer_of(language)

    # given the customer on their wallet
    log_in(page, base, user.email, PASSWORD)
    page.goto(base + "/wallet/")
    assert_language(page, language)
    offered = page.locator("input[name=pay_with]").evaluate_all("inputs => inputs.map(i => i.value)")
    assert "wallet" not in offered and "wallet_card" not in offered  # the wallet cannot pay into itself
    if method is not None:
        # then the card they used last comes first and chosen: no card fields to fill
        assert offered[0] == f"saved-{method.pk}", offered
        chosen = f"pay-saved-{method.pk}"
    else:
        # then 支付宝 and 微信支付 come first, before a new card
        assert offered[:3] == ["alipay", "wechat_pay", "card"], offered
        chosen = "pay-wechat_pay"
    expect(page.locator("input[name=card_number]")).to_be_hidden()
    page.get_by_test_id("pay-card").check()  # a new card opens its fields
    expect(page.locator("input[name=card_number]")).to_be_visible()
    page.get_by_test_id(chosen).check()
    expect(page.locator("input[name=card_number]")).to_be_hidden()
    page.fill("input[name=amount]", spec["amount"])
    shot(page, f"topup-ways-{language}-1-wallet")

    # when they top up
    page.get_by_test_id("topup").click()
    if method is None:
        # through the provider's page, in their language, approving the amount
        page.wait_for_url(re.compile(r".*/sandbox/confirm/.*"))
        assert_language(page, language)
        expect(page.get_by_test_id("bank-page")).to_contain_text(spec["amount"])
        shot(page, f"topup-ways-{language}-2-provider")
        page.get_by_test_id("bank-approve").click()

    # then the top-up is confirmed and the wallet holds it
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("wallet-balance")).to_contain_text(spec["wallet"].lstrip("$"))
    shot(page, f"topup-ways-{language}-3-confirmed")
    order = Order.objects.filter(customer=customer).latest("pk")
    assert order.status == Order.Status.PAID
    payment = order.payments.get(status=Payment.Status.SUCCEEDED)
    assert payment.card_brand == ("visa" if method is not None else "wechat_pay")
    assert wallet_balance(customer, spec["currency"]) == Decimal(spec["amount"])
    assert page.console_errors == []
