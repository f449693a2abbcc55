"""PayPal through PayPal's own API, in a 390 × 844 phone in both languages: the customer picks
PayPal on the renew page, approves on PayPal's page (the local stand-in, tests/paypal_server.py,
which checks each of the adapter's requests against PayPal's published OpenAPI description) and
comes back to a paid order; or cancels there and comes back to a clear refusal and "Try again".

Cards and the other wallets stay with the sandbox; REFILL_PAYMENT_ROUTES sends PayPal to the
PayPal adapter, as an operator would."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from refill.orders.models import Order
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.paypal_server import PayPalStandIn

from .helpers import assert_language, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "paypal-pass-2026"
# The locale Refill asks PayPal's page to speak for each of its languages.
PAYPAL_LOCALE = {"en": "en-US", "zh-hans": "zh-CN"}


@pytest.fixture(scope="module")
def standin():
    with PayPalStandIn() as server:
        yield server


@pytest.fixture
def paypal_routed(settings, standin):
    settings.REFILL_PAYMENT_ROUTES = {"paypal": "paypal"}
    for name, value in standin.settings().items():
        setattr(settings, name, value)
    standin.violations(clear=True)
    yield standin
    # Every request the adapter sent during the journey matched PayPal's description.
    assert standin.violations(clear=True) == []


def customer_on_the_renew_page(page, base, language):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    email = f"paypal-{language}@example.com"
    customer, user = make_customer(email, language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550177")
    log_in(page, base, email, PASSWORD)
    page.get_by_test_id("renew").first.click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/renew/$"))
    assert_language(page, language)
    return customer, line


def pay_with_paypal(page, shot, name):
    page.get_by_test_id("pay-paypal").check()
    expect(page.locator("input[name=card_number]")).to_be_hidden()  # no card to type
    shot(page, f"{name}-1-renew")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/checkoutnow\?token=[A-Z0-9]+$"))
    expect(page.get_by_test_id("paypal-page")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_customer_pays_with_paypal_and_comes_back_paid(live_server, phone_page, shot, paypal_routed, language):
    page, base = phone_page, live_server.url
    customer, line = customer_on_the_renew_page(page, base, language)
    end_before = line.period_end

    # when they choose PayPal and pay, PayPal's page asks them to approve the amount, in their language
    pay_with_paypal(page, shot, f"paypal-{language}")
    assert page.locator("html").get_attribute("lang") == PAYPAL_LOCALE[language]
    expect(page.get_by_test_id("paypal-amount")).to_have_text("25.00 USD")
    payment = Payment.objects.get(order__customer=customer, status=Payment.Status.REQUIRES_ACTION)
    assert (payment.gateway, payment.card_brand) == ("paypal", "paypal")
    assert Period.objects.filter(line=line).count() == 0  # nothing granted before the approval
    shot(page, f"paypal-{language}-2-approve")

    # and approve: back on Refill, the order is captured and paid, in their language
    page.get_by_test_id("paypal-approve").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_contain_text("25.00")
    shot(page, f"paypal-{language}-3-paid")
    payment.refresh_from_db()
    assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, Decimal("25"))
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID
    line.refresh_from_db()
    assert line.period_end is not None and line.period_end != end_before
    assert Period.objects.filter(line=line).count() == 1
    captures = [c for c in paypal_routed.stats()["captures"] if c["_order"] == payment.provider_reference]
    assert len(captures) == 1 and captures[0]["custom_id"] == payment.idempotency_key
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_customer_who_cancels_at_paypal_is_told_and_can_try_again(
    live_server, phone_page, shot, paypal_routed, language
):
    page, base = phone_page, live_server.url
    customer, line = customer_on_the_renew_page(page, base, language)
    pay_with_paypal(page, shot, f"paypal-cancel-{language}")

    # when they cancel on PayPal's page, they come back to the order: not paid, told so plainly
    page.get_by_test_id("paypal-cancel").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("decline-text")).to_be_visible()
    expect(page.get_by_test_id("confirming")).to_have_count(0)  # not left "waiting for the bank"
    expect(page.get_by_test_id("continue-bank")).to_have_count(0)
    shot(page, f"paypal-cancel-{language}-2-cancelled")
    payment = Payment.objects.get(order__customer=customer, gateway="paypal")
    assert payment.status == Payment.Status.FAILED
    assert Period.objects.filter(line=line).count() == 0
    assert not [c for c in paypal_routed.stats()["captures"] if c["_order"] == payment.provider_reference]

    # and "Try again" takes them back to the renew page, where PayPal is there to choose again
    page.get_by_test_id("try-again").click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/renew/.*"))
    assert_language(page, language)
    expect(page.get_by_test_id("pay-paypal")).to_be_visible()
    shot(page, f"paypal-cancel-{language}-3-try-again")
    assert page.console_errors == []
