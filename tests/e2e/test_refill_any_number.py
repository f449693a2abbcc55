"""Refill any number without an account, in a phone-sized Chromium (390 × 844), in both languages:
from the home page's plans to the number, a plan of the number's market, a card, and the receipt
on screen; a declined card, then the same number and plan paid with another; Alipay through the
(sandbox) provider's page and back; a refill PIN. The pages hold no inline script or style: a
Content-Security-Policy violation would show up as a console error."""

import re
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.renewals.gifts import gift_return_token
from refill.subscriptions.models import Period
from refill.vouchers.services import voucher_batch_generate
from tests.e2e.helpers import assert_language, choose_language, fill_card, refill_checkout
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/helpers/shots/h21")
LANGUAGES = ["en", "zh-hans"]


@pytest.fixture
def owner():
    us = make_market()
    cn = make_market(
        "cn", name="Mainland China", name_zh_hans="中国大陆", region="CN", currency="CNY",
        time_zone="Asia/Shanghai", tax_rate=Decimal("0.06"), tax_inclusive=True,
    )  # fmt: skip
    plan = make_30day_plan(us)
    make_plan(us, "us-week", price="7.00", validity_count=7, name_en="7-Day Plan", name_zh_hans="7天套餐")
    # As many plans as the demo's US market has (six to renew onto), so the page is measured full.
    make_plan(us, "us-daily", price="1.50", validity_count=1, name_en="Day Pass", name_zh_hans="日套餐")
    make_plan(
        us, "us-month", price="35.00", validity_kind="months", validity_count=1, data_mb=None, voice_minutes=None,
        sms=None, name_en="Monthly Unlimited", name_zh_hans="包月无限",
    )  # fmt: skip
    make_plan(
        us,
        "us-annual",
        price="300.00",
        validity_kind="years",
        validity_count=1,
        name_en="Annual Plan",
        name_zh_hans="年度套餐",
    )
    make_plan(
        us,
        "us-keep",
        price="2.00",
        kind="retention",
        data_mb=0,
        voice_minutes=0,
        sms=0,
        name_en="Keep",
        name_zh_hans="保号套餐",
    )
    make_plan(cn, "cn-30day", price="68.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    customer, _ = make_customer("refill-owner@example.com")
    customer.display_name = "Alice Example"
    customer.save()
    line = make_line(customer, us, plan, msisdn="+12025550143")
    type(line).objects.filter(pk=line.pk).update(status="active", period_end=timezone.now() + timedelta(days=5))
    return customer


@pytest.fixture
def snap(shot):
    """Screenshots for the run's artifacts and the helper's review folder."""

    def take(page, name: str) -> None:
        shot(page, name)
        if SHOTS.parent.is_dir():
            SHOTS.mkdir(exist_ok=True)
            shutil.copy(Path(__file__).resolve().parents[2] / "var" / "screenshots" / f"{name}.png", SHOTS)

    return take


def screens(page) -> float:
    """How many 844 px phone screens the page is tall."""
    return page.evaluate("document.documentElement.scrollHeight") / 844


def no_console_errors(page) -> None:
    """Nothing went wrong in the page (a CSP violation would be here), but a declined payment's
    page, which answers 402 Payment Required as it should."""
    assert [e for e in page.console_errors if "status of 402" not in e] == []


def pay_by_card(page, number="4242 4242 4242 4242"):
    page.get_by_test_id("refill-pay-card").check()
    fill_card(page, number)


def receipt_paid(page, language, amount="25.00"):
    page.wait_for_url(re.compile(r".*/refills/[^/]+/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("gift-paid")).to_be_visible()
    expect(page.get_by_test_id("gift-number")).to_have_text("+1 202-555-0143")
    expect(page.get_by_test_id("gift-amount")).to_contain_text(amount)
    assert "Alice Example" not in page.content()


@pytest.mark.parametrize("language", LANGUAGES)
def test_number_plan_card_receipt(live_server, phone_page, snap, owner, language):
    page, base = phone_page, live_server.url
    # given a guest on the home page, which lists each market's plans and prices
    choose_language(page, base, language)
    expect(page.get_by_test_id("landing-market-us")).to_be_visible()
    expect(page.get_by_test_id("landing-market-cn")).to_be_visible()
    expect(page.get_by_test_id("landing-price-us-30day")).to_contain_text("25.00")
    expect(page.get_by_test_id("landing-price-cn-30day")).to_contain_text("68.00")
    snap(page, f"refill-{language}-1-home")

    # when they choose Refill any number, give the number, a plan and a card
    page.get_by_test_id("refill-any-number").click()
    expect(page.get_by_test_id("refill-number-page")).to_be_visible()
    snap(page, f"refill-{language}-2-number")
    page.get_by_test_id("refill-msisdn").fill("202 555 0143")
    page.get_by_test_id("refill-number-submit").click()
    expect(page.get_by_test_id("refill-form")).to_be_visible()
    # only the number's market's plans
    expect(page.get_by_test_id("refill-plan-us-30day")).to_be_visible()
    expect(page.get_by_test_id("refill-plan-cn-30day")).to_have_count(0)
    page.get_by_test_id("refill-plan-us-30day").check()
    pay_by_card(page)
    page.get_by_test_id("refill-email").fill("payer@example.net")
    snap(page, f"refill-{language}-3-checkout")
    # at most two phone screens with a new card's fields filled (PIN and payment apps are shorter)
    assert screens(page) <= 2.0, f"the checkout is {screens(page):.2f} screens tall"
    page.get_by_test_id("refill-submit").click()

    # then the receipt is on screen, and the number has its plan
    receipt_paid(page, language)
    expect(page.get_by_test_id("gift-emailed")).to_contain_text("payer@example.net")
    snap(page, f"refill-{language}-4-receipt")
    order = Order.objects.get()
    assert order.status == "paid" and order.payer_email == "payer@example.net" and order.language == language
    assert Period.objects.filter(order_item__order=order).count() == 1
    no_console_errors(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_decline_then_a_retry_with_the_number_and_plan_kept(live_server, phone_page, snap, owner, language):
    page, base = phone_page, live_server.url
    refill_checkout(page, base, language, "us-week")

    # when the card is declined
    pay_by_card(page, "4000 0000 0000 0002")
    page.get_by_test_id("refill-submit").click()

    # then the page says why, keeps the number, the plan and the card number, and nothing is paid
    expect(page.get_by_test_id("refill-error")).to_be_visible()
    assert_language(page, language)
    expect(page.get_by_test_id("refill-number")).to_have_text("+1 202-555-0143")
    expect(page.get_by_test_id("refill-plan-us-week")).to_be_checked()
    expect(page.get_by_test_id("card-number")).to_have_value("4000 0000 0000 0002")
    snap(page, f"refill-{language}-5-declined")
    assert not Order.objects.filter(status="paid").exists()

    # and another card on the same page pays for the same plan
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("refill-submit").click()
    receipt_paid(page, language, "7.00")
    assert Order.objects.get().status == "paid"
    no_console_errors(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_alipay_through_the_providers_page_and_back(live_server, phone_page, snap, owner, language):
    page, base = phone_page, live_server.url
    refill_checkout(page, base, language, "us-30day")
    page.get_by_test_id("refill-pay-alipay").check()
    expect(page.get_by_test_id("card-number")).to_be_hidden()  # no card fields for a payment app
    snap(page, f"refill-{language}-6-alipay")
    page.get_by_test_id("refill-submit").click()

    # the provider's page asks to approve the amount; approving returns to the receipt
    expect(page.get_by_test_id("bank-page")).to_contain_text("25.00")
    assert_language(page, language)
    snap(page, f"refill-{language}-7-alipay-page")
    # leaving the provider's page unfinished: the gift's page waits, and offers to go on or try again
    page.goto(base + f"/refills/{gift_return_token(Order.objects.get())}/")
    expect(page.get_by_test_id("gift-waiting")).to_be_visible()
    expect(page.get_by_test_id("refill-again")).to_be_visible()
    snap(page, f"refill-{language}-7b-waiting")
    page.get_by_test_id("gift-continue").click()
    page.get_by_test_id("bank-approve").click()
    receipt_paid(page, language)
    order = Order.objects.get()
    assert order.status == "paid" and order.payments.get().card_brand == "alipay"
    no_console_errors(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_declined_at_the_provider_then_tried_again(live_server, phone_page, snap, owner, language):
    page, base = phone_page, live_server.url
    refill_checkout(page, base, language, "us-week")
    page.get_by_test_id("refill-pay-wechat_pay").check()
    page.get_by_test_id("refill-submit").click()
    page.get_by_test_id("bank-decline").click()

    # the gift's page says it did not go through and offers to try again with the same choice
    page.wait_for_url(re.compile(r".*/refills/[^/]+/$"))
    expect(page.get_by_test_id("gift-declined")).to_be_visible()
    snap(page, f"refill-{language}-8-provider-declined")
    page.get_by_test_id("refill-again").click()
    expect(page.get_by_test_id("refill-number")).to_have_text("+1 202-555-0143")
    expect(page.get_by_test_id("refill-plan-us-week")).to_be_checked()
    pay_by_card(page)
    page.get_by_test_id("refill-submit").click()
    receipt_paid(page, language, "7.00")
    assert Order.objects.filter(status="paid").count() == 1
    no_console_errors(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refill_pin(live_server, phone_page, snap, owner, language):
    page, base = phone_page, live_server.url
    batch, pins = voucher_batch_generate(count=1, face_value="30.00", currency="USD")
    refill_checkout(page, base, language, "us-30day")
    expect(page.get_by_test_id("refill-pin")).to_be_hidden()
    page.get_by_test_id("refill-pay-pin").check()
    expect(page.get_by_test_id("refill-pin")).to_be_visible()
    expect(page.get_by_test_id("card-number")).to_be_hidden()
    page.get_by_test_id("refill-pin").fill(pins[0][1])
    snap(page, f"refill-{language}-9-pin")
    page.get_by_test_id("refill-submit").click()
    receipt_paid(page, language)
    snap(page, f"refill-{language}-10-pin-receipt")
    # the PIN paid the plan; what it held beyond the price is on the owner's wallet
    assert wallet_balance(owner, "USD") == Decimal("5.00")
    no_console_errors(page)
