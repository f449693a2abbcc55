"""A returning customer renews their current plan on a 390 × 844 phone, in both languages, measured:
the renew page fits in two screens (document height ≤ 1,688 px), every plan card shows its price
and what it includes, the current plan is marked and chosen, the card they paid with last time is
offered first and chosen, and after login it takes at most 3 taps and no typed field (My lines →
Renew → Pay) to a paid order. With a new card instead, the typing fits in one screen.

Taps and typed fields are counted in the page (a script Playwright adds before any page's own,
outside its Content-Security-Policy): every trusted click, and every field that received typed
input, kept in sessionStorage across the pages of the journey. The figures are printed
(docs/benchmarks.md records them)."""

import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import Payment
from refill.payments.services import method_add
from refill.subscriptions.models import Period
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "three-taps-2026"
TWO_SCREENS = 2 * 844
GB = 1024

# The demo's US catalog (refill.demo.seed.US_PLANS, base and keep-my-number plans): the renew
# page is measured with as many plans as a real customer sees.
PLANS = [
    # code, en, zh, days, data MB (None: unlimited), minutes, sms, price
    ("us-daily", "Day Pass", "日套餐", 1, 1 * GB, 100, 100, "1.50"),
    ("us-week", "7-Day Plan", "7天套餐", 7, 5 * GB, 500, 500, "7.00"),
    ("us-30day", "30-Day Plan", "30天套餐", 30, 20 * GB, None, None, "25.00"),
    ("us-month", "Monthly Unlimited", "包月无限", 30, None, None, None, "35.00"),
    ("us-annual", "Annual Plan", "年度套餐", 365, 240 * GB, None, None, "300.00"),
]

COUNTER = """
(() => {
  const read = (key) => JSON.parse(sessionStorage.getItem(key) || "null");
  const write = (key, value) => sessionStorage.setItem(key, JSON.stringify(value));
  document.addEventListener("click", (event) => {
    if (event.isTrusted) write("taps", (read("taps") || 0) + 1);
  }, true);
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!event.isTrusted || !field.matches("input:not([type=radio]):not([type=checkbox]), textarea")) return;
    const typed = read("typed") || [];
    const name = field.name || field.id;
    if (!typed.includes(name)) write("typed", [...typed, name]);
  }, true);
})();
"""


def counted(page) -> dict:
    return page.evaluate(
        "({taps: JSON.parse(sessionStorage.getItem('taps') || '0'),"
        " typed: JSON.parse(sessionStorage.getItem('typed') || '[]')})"
    )


def demo_like_customer(language: str, *, saved_card: bool = True, wallet: str = "15.00"):
    """A US customer like the demo's: a line on the 30-day plan (one of five plans and a keep-my-number
    plan), last paid with their saved Visa, and $15 in the wallet (less than the plan's price)."""
    market = make_market()
    plans = {
        code: make_plan(
            market, code, price=price, validity_count=days, data_mb=data, voice_minutes=minutes, sms=sms,
            name_en=en, name_zh_hans=zh,
        )
        for code, en, zh, days, data, minutes, sms, price in PLANS
    }  # fmt: skip
    make_plan(market, "us-keep", kind="retention", price="2.00", data_mb=0, voice_minutes=0, sms=0,
              name_en="Keep My Number", name_zh_hans="保号套餐")  # fmt: skip
    customer, user = make_customer(
        f"taps-{language}-{'saved' if saved_card else 'new'}@example.com", language=language, password=PASSWORD
    )
    line = make_line(customer, market, plans["us-30day"], msisdn="+12025550143")
    order = order_create_renewal(customer=customer, line=line, plan=plans["us-30day"], periods=1, idempotency_key="t")
    if saved_card:
        method = method_add(customer=customer, gateway=SandboxGateway(), card=_card())
        order_pay(order=order, pay_with=PayWith(saved_method=method))
    else:
        method = None
        order_pay(order=order, pay_with=PayWith(card=_card()))
    if Decimal(wallet):
        _, pins = voucher_batch_generate(count=1, face_value=wallet, currency="USD")
        voucher_redeem(pin=pins[0][1], customer=customer)
    line.refresh_from_db()
    return customer, user, line, method


def _card():
    from refill.integrations.payments.base import CardDetails

    return CardDetails(number="4242424242424242", exp_month=12, exp_year=2039, cvc="123")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_returning_customer_renews_in_three_taps_without_typing(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    customer, user, line, method = demo_like_customer(language)
    end_before = line.period_end
    page.context.add_init_script(COUNTER)

    # given the customer logged in, on My lines (where login lands), with the counters at zero
    log_in(page, base, user.email, PASSWORD)
    assert_language(page, language)
    page.evaluate("sessionStorage.clear()")

    # when they tap Renew on their line
    page.get_by_test_id("renew").first.tap()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/renew/$"))
    assert_language(page, language)

    # then the page fits in two phone screens
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= TWO_SCREENS, f"the renew page is {height} px tall"
    # every plan card shows its price and what it includes; the current plan is marked and chosen
    cards = page.locator("[data-testid^=plan-card-]")
    expect(cards).to_have_count(6)
    for index in range(6):
        expect(cards.nth(index).get_by_test_id("plan-price")).to_have_text(re.compile(r"\$\d+\.\d\d"))
        expect(cards.nth(index).locator(".plan-detail")).to_have_text(re.compile(r"\d"))
    current = page.get_by_test_id("plan-card-us-30day")
    expect(current.get_by_test_id("current-plan")).to_be_visible()
    expect(page.get_by_test_id("current-plan")).to_have_count(1)
    expect(page.get_by_test_id("plan-us-30day")).to_be_checked()
    # the saved card they paid with last time comes first, chosen, named unlike "a new card"
    options = page.locator("input[name=pay_with]")
    expect(options.first).to_have_attribute("data-testid", f"pay-saved-{method.pk}")
    expect(page.get_by_test_id(f"pay-saved-{method.pk}")).to_be_checked()
    saved_option = page.get_by_test_id(f"option-pay-saved-{method.pk}")
    expect(saved_option).to_contain_text("4242")
    expect(saved_option).to_contain_text("12/39")
    expect(saved_option.get_by_test_id("last-used")).to_be_visible()
    assert saved_option.inner_text() != page.get_by_test_id("option-pay-card").inner_text()
    # the wallet ($15, less than $25) is shown disabled with what it holds and the total
    expect(page.get_by_test_id("pay-wallet")).to_be_disabled()
    expect(page.get_by_test_id("why-pay-wallet")).to_contain_text("15.00")
    expect(page.get_by_test_id("why-pay-wallet")).to_contain_text("25.00")
    # nothing to type: the card fields and the promotion code are folded away
    expect(page.locator("input[name=card_number]")).to_be_hidden()
    expect(page.get_by_test_id("promotion-code")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"three-taps-{language}-1-renew")

    # and they tap Pay
    page.get_by_test_id("pay").tap()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    shot(page, f"three-taps-{language}-2-paid")

    # then the order is paid with the saved card, one period added, in at most 3 taps and 0 typed fields
    figures = counted(page)
    order = Order.objects.filter(customer=customer).latest("pk")
    assert order.status == Order.Status.PAID
    payment = order.payments.get(status=Payment.Status.SUCCEEDED)
    assert (payment.method, payment.card_last4) == (Payment.Method.CARD, "4242")
    line.refresh_from_db()
    assert Period.objects.filter(line=line).count() == 2 and line.period_end > end_before
    assert wallet_balance(customer, "USD") == Decimal("15.00")  # the wallet was not touched
    assert figures["taps"] <= 3 and figures["typed"] == [], figures
    print(json.dumps({"journey": "three-tap renewal", "language": language, "page_height": height, **figures}))
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_with_a_new_card_the_typing_fits_in_one_screen(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    customer, user, line, _ = demo_like_customer(language, saved_card=False, wallet="0")
    page.context.add_init_script(COUNTER)
    log_in(page, base, user.email, PASSWORD)
    page.evaluate("sessionStorage.clear()")

    # given a customer with no saved card and an empty wallet: a new card is offered first (支付宝
    # first to a Chinese reader, then 微信支付, then the card), and its fields open when chosen
    page.get_by_test_id("renew").first.tap()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/renew/$"))
    assert_language(page, language)
    first = {"en": ["pay-card"], "zh-hans": ["pay-alipay", "pay-wechat_pay", "pay-card"]}[language]
    offered = page.locator("input[name=pay_with]").evaluate_all("inputs => inputs.map(i => i.dataset.testid)")
    assert offered[: len(first)] == first, offered
    expect(page.get_by_test_id(first[0])).to_be_checked()
    expect(page.get_by_test_id("pay-wallet")).to_have_count(0)  # an empty wallet is not offered
    number = page.locator("input[name=card_number]")
    if language == "zh-hans":
        expect(number).to_be_hidden()  # 支付宝 needs no card fields
        page.get_by_test_id("pay-card").tap()
    expect(number).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= TWO_SCREENS + 844 // 2, f"the renew page with the card fields is {height} px tall"

    # when they type the card: from the first field to the Pay button is at most one screen
    top = number.bounding_box()["y"]
    pay = page.get_by_test_id("pay").bounding_box()
    typing_span = pay["y"] + pay["height"] - top
    assert typing_span <= 844, f"the card fields and Pay span {typing_span} px"
    number.tap()
    number.press_sequentially("4242 4242 4242 4242")
    page.locator("input[name=card_expiry]").tap()
    page.locator("input[name=card_expiry]").press_sequentially("1239")
    page.locator("input[name=card_cvc]").tap()
    page.locator("input[name=card_cvc]").press_sequentially("123")
    shot(page, f"three-taps-{language}-3-new-card")
    page.get_by_test_id("pay").tap()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))

    # then it is paid, and the card fields were the only typing
    figures = counted(page)
    assert figures["taps"] <= {"en": 6, "zh-hans": 7}[language], figures  # Renew, 3 fields, (A new card), Pay
    assert Order.objects.filter(customer=customer).latest("pk").status == Order.Status.PAID
    assert sorted(figures["typed"]) == ["card_cvc", "card_expiry", "card_number"], figures
    print(json.dumps({"journey": "new card", "language": language, "page_height": height,
                      "typing_span": typing_span, **figures}))  # fmt: skip
    assert page.console_errors == []
