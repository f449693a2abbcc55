"""Buying an add-on in a phone-sized Chromium, in both languages: from the line card, choose a data
booster, see its price and how long it lasts, see what "wallet first, the rest by card" takes from
each, pay by card, and find its allowance on the line card.
A declined card first changes nothing."""

import re

import pytest
from playwright.sync_api import expect

from refill.orders.models import Order
from refill.subscriptions.models import Bucket, Period
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "addon-pass-2026"
GB = 1024


def pay_by_card(page, number: str) -> None:
    page.get_by_test_id("pay-card").check()
    page.fill("input[name=card_number]", number)
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("pay").click()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_buy_a_data_booster_by_card(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    base_plan = make_30day_plan(market)
    booster = make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
                        name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
    make_plan(market, "us-voice-week", kind="addon", price="3.00", validity_count=7, data_mb=0, voice_minutes=300,
              sms=0, name_en="Voice Week", name_zh_hans="语音周包")  # fmt: skip
    customer, user = make_customer(f"addon-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, base_plan, msisdn="+12025550191")
    renew(line, base_plan)  # a 30-day period running, with 20 GB
    _, pins = voucher_batch_generate(count=1, face_value="4.00", currency="USD")
    voucher_redeem(pin=pins[0][1], customer=customer)  # less than a booster: the rest by card
    period = Period.objects.get(line=line)

    # given the customer on their lines, the line card offers an add-on
    log_in(page, base, user.email, PASSWORD)
    assert_language(page, language)
    card = page.locator(f"[data-testid=line][data-msisdn='{line.msisdn}']")
    expect(card.get_by_test_id("allowance-data")).to_contain_text("20 GB")
    card.get_by_test_id("buy-addon").click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/addons/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("addon-price")).to_have_count(2)
    shot(page, f"addon-{language}-1-offer")

    # when they choose one add-on and then the booster, the quote follows their choice: the
    # booster's price and end (the running period's end)
    page.get_by_test_id("addon-us-voice-week").check()
    expect(page.get_by_test_id("total")).to_contain_text("3.00")
    page.get_by_test_id("addon-us-data-5gb").check()
    expect(page.get_by_test_id("addon-name")).to_have_text(
        "5 GB Data Booster" if language == "en" else "5GB 流量加油包"
    )
    expect(page.get_by_test_id("total")).to_contain_text("10.00")
    expect(page.get_by_test_id("addon-until")).not_to_be_empty()

    # and with 4.00 in the wallet, "wallet first, the rest by card" shows what each pays before paying
    page.get_by_test_id("pay-wallet-card").check()
    expect(page.get_by_test_id("split-wallet")).to_contain_text("4.00")
    expect(page.get_by_test_id("split-card")).to_contain_text("6.00")
    shot(page, f"addon-{language}-1b-wallet-split")
    page.get_by_test_id("pay-card").check()
    expect(page.get_by_test_id("split-wallet")).to_have_count(0)

    # and a declined card changes nothing, and says so
    pay_by_card(page, "4000 0000 0000 9995")
    expect(page.get_by_test_id("payment-error")).to_be_visible()
    assert_language(page, language)
    shot(page, f"addon-{language}-2-declined")
    assert not Order.objects.filter(customer=customer, status=Order.Status.PAID, items__plan=booster).exists()
    assert Bucket.objects.filter(period__line=line).count() == Bucket.objects.filter(period=period).count()

    # then with a good card the add-on is confirmed, valid until the period's end
    page.get_by_test_id("addon-us-data-5gb").check()
    expect(page.get_by_test_id("total")).to_contain_text("10.00")
    pay_by_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("addon-confirmed")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_contain_text("10.00")
    shot(page, f"addon-{language}-3-confirmed")
    order = Order.objects.get(customer=customer, status=Order.Status.PAID, items__plan=booster)
    assert order.total == 10 and Period.objects.filter(line=line).count() == 1  # no new period: an add-on

    # and the line card counts the booster's 5 GB on top of the plan's 20 GB
    page.goto(base + "/lines/")
    card = page.locator(f"[data-testid=line][data-msisdn='{line.msisdn}']")
    expect(card.get_by_test_id("allowance-data")).to_contain_text("25 GB")
    shot(page, f"addon-{language}-4-line-card")
    # The declined card was answered 402 by design (the form with its error); nothing else failed.
    assert [error for error in page.console_errors if "status of 402" not in error] == []
