"""Cards taken by the provider's own script (Stripe.js) in a phone-sized Chromium, in both languages,
against localstripe and its Stripe.js stand-in (with the test double's additions,
tests/localstripe_stripejs.js): a renewal paid, one through the bank's 3-D Secure step (confirmed,
refused, abandoned), a declined card, a card saved in the account, a renewal paid with the Apple Pay /
Google Pay button where the test declares a wallet (the double's, not a real one); and every request
the browser sends to Refill is captured to show that no card number is among them."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.orders.models import Order
from refill.orders.settling import payments_reconcile
from refill.payments.models import Payment, PaymentMethod
from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.localstripe_server import LocalStripe

from .helpers import assert_language, choose_language, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "stripejs-pass-2026"
LANGUAGES = ["en", "zh-hans"]


@pytest.fixture(scope="module")
def localstripe():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def stripe_on(localstripe, settings):
    settings.REFILL_PAYMENT_GATEWAY = "stripe"
    settings.REFILL_STRIPE_SECRET_KEY = LocalStripe.SECRET_KEY
    settings.REFILL_STRIPE_WEBHOOK_SECRET = "whsec_e2e_stripejs"
    settings.REFILL_STRIPE_API_BASE = localstripe.url
    settings.REFILL_STRIPE_PUBLISHABLE_KEY = LocalStripe.PUBLISHABLE_KEY
    settings.REFILL_STRIPE_JS_URL = localstripe.js_url
    return localstripe


class RefillRequests:
    """Every request the page sends to Refill (the live server), with its body."""

    def __init__(self, page, base: str) -> None:
        self.seen: list[tuple[str, str]] = []
        page.on("request", self._record)
        self.base = base

    def _record(self, request) -> None:
        if request.url.startswith(self.base):
            self.seen.append((request.url, request.post_data or ""))

    def carrying(self, *needles: str) -> list[str]:
        return [url for url, body in self.seen if any(needle in url or needle in body for needle in needles)]


def open_renewal(page, base: str, language: str) -> None:
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    email = f"stripejs-{language}-{Period.objects.count()}-{Order.objects.count()}@example.com"
    customer, user = make_customer(email, language=language, password=PASSWORD)
    make_line(customer, market, plan, msisdn="+12025550166")
    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD)
    page.get_by_test_id("renew").first.click()
    page.get_by_test_id("pay-card").check()  # a new card (a Chinese reader is offered 支付宝 first)
    assert_language(page, language)


def type_card(page, number: str) -> None:
    """Into the provider's card field (localstripe's stand-in draws plain inputs; Stripe's are in a
    frame): Refill's own card inputs are not on the page at all."""
    element = page.get_by_test_id("card-element")
    expect(element.locator("input")).not_to_have_count(0)
    element.locator("input[placeholder=number]").fill(number)
    element.locator("input[placeholder=exp_month]").fill("12")
    element.locator("input[placeholder=exp_year]").fill("39")
    element.locator("input[placeholder=cvc]").fill("123")


def card_digits(number: str) -> tuple[str, ...]:
    return (number, " ".join(re.findall("....", number)), number[:6] + "%20", number[6:12])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_card_typed_into_stripes_field_pays_and_no_request_to_refill_carries_the_number(
    live_server, phone_page, shot, stripe_on, language
):
    page, base = phone_page, live_server.url
    requests = RefillRequests(page, base)
    open_renewal(page, base, language)
    expect(page.locator("input[name=card_number]")).to_have_count(0)
    expect(page.locator("input[name=card_cvc]")).to_have_count(0)
    # No wallet in headless Chromium: the Apple Pay / Google Pay button stays hidden.
    expect(page.get_by_test_id("wallet-button")).to_be_hidden()
    type_card(page, "4242424242424242")
    shot(page, f"stripejs-{language}-1-card-field")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripejs-{language}-2-paid")
    payment = Payment.objects.get(method="card")
    assert (payment.status, payment.gateway, payment.card_last4) == ("succeeded", "stripe", "4242")
    # The form posted the PaymentMethod's reference, and nothing of the card itself.
    posts = [body for url, body in requests.seen if body]
    assert any("card_reference=pm_" in body for body in posts)
    assert requests.carrying(*card_digits("4242424242424242")) == []
    assert not [body for body in posts if "card_number" in body or "card_cvc" in body or "card_expiry" in body]
    assert [message for message in page.console_errors if "Content Security Policy" in message] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_browser_with_a_wallet_shows_the_apple_pay_button_and_it_pays(
    live_server, phone_page, shot, stripe_on, language
):
    page, base = phone_page, live_server.url
    requests = RefillRequests(page, base)
    # The test double's wallet (tests/localstripe_stripejs.js): canMakePayment() answers this object.
    page.add_init_script("window.__refillTestWallet = {applePay: true, payerName: 'Wallet Holder'};")
    open_renewal(page, base, language)
    button = page.get_by_test_id("wallet-button")
    expect(button).to_be_visible()
    expect(button.get_by_role("button")).to_be_visible()
    shot(page, f"stripejs-{language}-wallet-button")
    button.get_by_role("button").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripejs-{language}-wallet-paid")
    # The page told the wallet the payment went through, once.
    assert page.evaluate("JSON.parse(sessionStorage.getItem('refillTestWalletCompleted'))") == ["success"]
    order = Order.objects.get()
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.status, payment.gateway) == ("card", "succeeded", "stripe")
    assert payment.card_last4 == "4242"
    assert order.status == "paid" and Period.objects.count() == 1
    posts = [body for url, body in requests.seen if body]
    assert any("card_reference=pm_" in body for body in posts)
    assert requests.carrying(*card_digits("4242424242424242")) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("confirm", [True, False])
def test_three_d_secure_through_stripes_own_step(live_server, phone_page, shot, stripe_on, language, confirm):
    page, base = phone_page, live_server.url
    requests = RefillRequests(page, base)
    open_renewal(page, base, language)
    type_card(page, "4000002500003155")  # localstripe's card that asks for 3-D Secure
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/payment-return/$"))
    expect(page.get_by_test_id("bank-step")).to_be_visible()
    assert_language(page, language)
    # The provider's script shows the bank's confirmation (localstripe's stand-in: two buttons).
    button = "Complete authentication" if confirm else "Fail authentication"
    page.get_by_role("button", name=button).wait_for()
    shot(page, f"stripejs-{language}-3ds-step")
    page.get_by_role("button", name=button).click()
    if confirm:
        page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
        expect(page.get_by_test_id("confirmation")).to_be_visible()
        assert Period.objects.count() == 1
    else:
        page.wait_for_url(re.compile(r".*/orders/\d+/$"))
        expect(page.get_by_test_id("decline-text")).to_be_visible()
        payment = Payment.objects.get(method="card")
        assert (payment.status, payment.decline_code) == ("failed", "authentication_failed")
        assert Period.objects.count() == 0
    assert_language(page, language)
    shot(page, f"stripejs-{language}-3ds-{'confirmed' if confirm else 'refused'}")
    assert requests.carrying(*card_digits("4000002500003155")) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_abandoned_bank_step_is_cancelled_and_charges_nothing(live_server, phone_page, shot, stripe_on, language):
    page, base = phone_page, live_server.url
    open_renewal(page, base, language)
    type_card(page, "4000002500003155")
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("bank-step")).to_be_visible()
    payment = Payment.objects.get(method="card")
    # The customer walks away from the bank's step; half an hour later reconciliation gives up on it.
    page.goto(f"{base}/orders/{payment.order_id}/")
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=31)) == 1
    page.reload()
    expect(page.get_by_test_id("decline-text")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripejs-{language}-3ds-abandoned")
    payment.refresh_from_db()
    assert (payment.status, payment.decline_code) == ("failed", "authentication_failed")
    assert Period.objects.count() == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_declined_card_is_told_and_nothing_changes(live_server, phone_page, shot, stripe_on, language):
    page, base = phone_page, live_server.url
    open_renewal(page, base, language)
    type_card(page, "4000000000000341")  # localstripe: the charge is declined
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("payment-error")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripejs-{language}-declined")
    # The page is back with Stripe's card field ready for another card.
    expect(page.get_by_test_id("card-element").locator("input[placeholder=number]")).to_be_visible()
    assert Payment.objects.get(method="card").status == "failed" and Period.objects.count() == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_card_saved_in_the_account_through_stripes_field(live_server, phone_page, shot, stripe_on, language):
    page, base = phone_page, live_server.url
    requests = RefillRequests(page, base)
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer(f"stripejs-save-{language}@example.com", language=language, password=PASSWORD)
    make_line(customer, market, plan, msisdn="+12025550167")
    choose_language(page, base, language)
    log_in(page, base, user.email, PASSWORD)
    page.goto(base + "/payment-methods/")
    # Saving with nothing typed: the card field's own message, nothing sent.
    page.get_by_test_id("save-card").click()
    expect(page.get_by_test_id("card-element-error")).to_be_visible()
    assert not PaymentMethod.objects.exists()
    type_card(page, "4242424242424242")
    page.get_by_test_id("save-card").click()
    expect(page.locator("[data-testid=method][data-last4='4242']")).to_be_visible()
    assert_language(page, language)
    shot(page, f"stripejs-{language}-saved")
    method = PaymentMethod.objects.get()
    assert method.gateway == "stripe" and method.provider_customer.startswith("cus_")
    assert requests.carrying(*card_digits("4242424242424242")) == []
