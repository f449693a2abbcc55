"""What a new user's trial still found wrong (issue 26), in a 390 × 844 Chromium, in both languages:
a payment app's decline reads "Payment failed" on the orders and the order; a paid order leads to
the support form with the order filled in and to the refunds article; the guest checkout's Pay
button says the amount and follows the plan, and a form sent without a plan says so at the top,
focused; the guest is given the receipt number; allauth's pages use Refill's words; a goodwill
extension's message gives a day. Screenshots go to /tmp/h26-shots/ (looked at before resolving)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from refill.customers.models import User
from refill.help.demo import articles_seed
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.support.models import Ticket
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "trial-pass-2026-x"
LANGUAGES = ["en", "zh-hans"]
SHOTS = Path("/tmp/h26-shots")


@pytest.fixture
def snap(shot):
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        shot(page, f"h26-{name}")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    return take


def fits(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_declined_app_payment_and_a_problem_with_a_paid_order(live_server, phone_page, snap, language):
    page, base = phone_page, live_server.url
    market = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plan = make_plan(market, "cn-month", price="88.00", name_en="Monthly Plan", name_zh_hans="月套餐")
    customer, user = make_customer(f"trial-{language}@example.com", language=language, password=PASSWORD,
                                   tz="Asia/Shanghai")  # fmt: skip
    line = make_line(customer, market, plan, msisdn="+8613912345678")
    paid, _ = renew(line, plan)
    articles_seed()
    declined = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="app")
    payment = order_pay(
        order=declined,
        pay_with=PayWith(provider_wallet="alipay"),
        return_url=f"{base}/orders/{declined.pk}/payment-return/",
    )

    # given the customer declines on Alipay's page (the sandbox's stand-in) and comes back
    log_in(page, base, user.email, PASSWORD)
    page.goto(payment.action_url if payment.action_url.startswith("http") else base + payment.action_url)
    page.get_by_test_id("bank-decline").click()
    page.wait_for_url(re.compile(rf".*/orders/{declined.pk}/$"))
    assert_language(page, language)
    # then the order says its payment failed, above why, and can be tried again
    expect(page.get_by_test_id("order-state")).to_have_class(re.compile(r"\bbadge-order-failed\b"))
    expect(page.get_by_test_id("try-again")).to_be_visible()
    expect(page.get_by_test_id("order-problem")).to_have_count(0)
    fits(page)
    snap(page, f"{language}-1-order-declined")
    # and the orders list says the same
    page.goto(f"{base}/orders/")
    expect(page.locator(f"[data-testid=order][data-state=failed] a[href='/orders/{declined.pk}/']")).to_have_count(1)
    expect(page.locator("[data-testid=order][data-state=paid]")).to_have_count(1)
    fits(page)
    snap(page, f"{language}-2-orders")

    # when they open the paid order: a problem with it leads to support, the order filled in
    page.goto(f"{base}/orders/{paid.pk}/")
    expect(page.get_by_test_id("receipt-number")).to_have_text(paid.receipt.display_number)
    expect(page.get_by_test_id("order-refund-help")).to_be_visible()
    fits(page)
    snap(page, f"{language}-3-order-paid")
    page.get_by_test_id("order-problem").click()
    page.wait_for_url(re.compile(r".*/support/new/\?order=\d+$"))
    assert_language(page, language)
    expect(page.locator("input[name=subject]")).to_have_value(re.compile(re.escape(paid.receipt.display_number)))
    expect(page.locator("select[name=line]")).to_have_value(str(line.pk))
    fits(page)
    snap(page, f"{language}-4-contact-prefilled")
    page.fill("textarea[name=body]", "The data of this renewal never arrived.")
    page.get_by_test_id("contact-submit").click()
    page.wait_for_url(re.compile(r".*/support/new/sent/$"))
    ticket = Ticket.objects.get()
    assert ticket.line == line and paid.receipt.display_number in ticket.subject
    snap(page, f"{language}-5-contact-sent")

    # and the refunds article is one tap from the order
    page.goto(f"{base}/orders/{paid.pk}/")
    page.get_by_test_id("order-refund-help").click()
    page.wait_for_url(re.compile(r".*/help/[a-z0-9-]+/$"))
    assert page.url != f"{base}/help/"
    assert page.console_errors == []


@pytest.fixture
def number_to_refill():
    us = make_market()
    plan = make_30day_plan(us)
    make_plan(us, "us-week", price="7.00", validity_count=7, name_en="7-Day Plan", name_zh_hans="7天套餐")
    owner, _ = make_customer("trial-owner@example.com")
    line = make_line(owner, us, plan, msisdn="+12025550143")
    type(line).objects.filter(pk=line.pk).update(status="active", period_end=timezone.now() + timedelta(days=5))
    return line


def to_checkout(page, base):
    page.goto(base + "/refill/")
    page.get_by_test_id("refill-msisdn").fill("202 555 0143")
    page.get_by_test_id("refill-number-submit").click()
    expect(page.get_by_test_id("refill-form")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_guest_pay_button_says_the_amount_and_a_missing_plan_is_said_first(
    live_server, phone_page, snap, number_to_refill, language
):
    page, base = phone_page, live_server.url
    choose_language(page, base, language)
    to_checkout(page, base)
    label = page.get_by_test_id("pay-label")
    expect(label).not_to_contain_text("$")

    # when they send the form without a plan: the summary at the top says so, focused
    page.get_by_test_id("refill-pay-card").check()
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12/39")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("refill-submit").click()
    summary = page.get_by_test_id("refill-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#refill-gift-1']")).to_have_count(1)
    expect(page.get_by_test_id("gift-error")).to_be_visible()
    assert page.url.endswith("/refill/")  # caught before sending: nothing typed is lost
    assert page.evaluate("document.querySelector('[data-testid=refill-error-summary]').getBoundingClientRect().top") < (
        page.evaluate("document.querySelector('[data-testid=refill-form] fieldset').getBoundingClientRect().top")
    )
    fits(page)
    snap(page, f"{language}-6-refill-no-plan")

    # then choosing a plan, and its periods, says what Pay will charge
    page.get_by_test_id("refill-plan-us-30day").check()
    expect(page.get_by_test_id("pay-label")).to_contain_text("25.00")
    page.get_by_test_id("refill-periods").select_option("2")
    expect(page.get_by_test_id("pay-label")).to_contain_text("50.00")
    page.get_by_test_id("refill-plan-us-week").check()
    expect(page.get_by_test_id("pay-label")).to_contain_text("14.00")
    fits(page)
    snap(page, f"{language}-7-refill-pay-amount")
    page.get_by_test_id("refill-gift-amount").check()
    page.get_by_test_id("refill-amount").fill("12.5")
    expect(page.get_by_test_id("pay-label")).to_contain_text("12.50")
    page.get_by_test_id("refill-plan-us-30day").check()
    page.get_by_test_id("refill-periods").select_option("1")
    expect(page.get_by_test_id("pay-label")).to_contain_text("25.00")

    # and paying gives the receipt number, the one the email carries
    page.get_by_test_id("refill-submit").click()
    page.wait_for_url(re.compile(r".*/refills/[^/]+/$"))
    assert_language(page, language)
    order = Order.objects.get(status="paid")
    expect(page.get_by_test_id("gift-reference")).to_have_text(order.receipt.display_number)
    fits(page)
    snap(page, f"{language}-8-refill-receipt")
    assert page.console_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_account_pages_in_refills_words(live_server, phone_page, snap, language):
    page, base = phone_page, live_server.url
    _, user = make_customer(f"words-{language}@example.com", language=language, password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    choose_language(page, base, language)
    for url, name in (("/accounts/login/", "9-login"), ("/accounts/signup/", "10-signup")):
        page.goto(base + url)
        assert_language(page, language)
        words = page.locator("main").inner_text() + " ".join(
            page.locator("input[placeholder]").evaluate_all("inputs => inputs.map(i => i.placeholder)")
        )
        if language == "zh-hans":
            assert "电子邮件" not in words and "邮箱" in words, words
        fits(page)
        snap(page, f"{language}-{name}")
    log_in(page, base, user.email, PASSWORD, secret=secret)
    for url, name in (("/accounts/email/", "11-email"), ("/accounts/2fa/", "12-two-factor")):
        page.goto(base + url)
        assert_language(page, language)
        words = page.locator("main").inner_text()
        if language == "zh-hans":
            assert "电子邮件" not in words and "恢复代码" not in words, words
        fits(page)
        snap(page, f"{language}-{name}")
    assert page.console_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_goodwill_message_gives_a_day(live_server, phone_page, snap, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"goodwill-{language}@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550186", sim_type="physical")
    renew(line, plan)
    email = f"support-goodwill-{language}@example.com"
    staff = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="support"))
    EmailAddress.objects.create(user=staff, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url=f"/backoffice/customers/{customer.pk}/", secret=secret)
    page.get_by_test_id(f"actions-{line.pk}").locator("summary").click()
    form = page.get_by_test_id("goodwill-form")
    form.locator("input[name=reason]").fill("network outage")
    form.locator("button[type=submit]").click()
    message = page.locator(".messages .message").first
    expect(message).to_be_visible()
    assert not re.search(r"\d{1,2}:\d{2}", message.inner_text()), message.inner_text()
    fits(page)
    snap(page, f"{language}-13-goodwill-message")
    assert page.console_errors == []
