"""The ways to pay follow the price, in a phone-sized Chromium, in both languages (issue 26): with
$4 in the wallet, the $10 pass leaves "My wallet" disabled with why; choosing the $3 pass makes it
usable at once, its reason gone, and "wallet first" no longer chosen. The same on the renew page
with a cheaper plan. The plan radio just used keeps the focus."""

import re

import pytest
from playwright.sync_api import expect

from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "follow-price-2026"
GB = 1024


def world(language: str, wallet: str):
    market = make_market()
    plan = make_30day_plan(market)
    make_plan(market, "us-week", price="7.00", validity_count=7, name_en="7-Day Plan", name_zh_hans="7天套餐",
              voice_minutes=None, sms=None)  # fmt: skip
    make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
              name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
    make_plan(market, "us-data-1gb", kind="addon", price="3.00", data_mb=GB, voice_minutes=0, sms=0,
              name_en="1 GB Data Booster", name_zh_hans="1GB 流量加油包")  # fmt: skip
    customer, user = make_customer(f"follow-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550177")
    renew(line, plan)
    _, pins = voucher_batch_generate(count=1, face_value=wallet, currency="USD")
    voucher_redeem(pin=pins[0][1], customer=customer)
    return user, line


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_cheaper_pass_makes_the_wallet_usable(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    user, line = world(language, "4.00")
    log_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/lines/{line.pk}/addons/?plan=us-data-5gb")
    assert_language(page, language)
    wallet = page.get_by_test_id("pay-wallet")
    expect(wallet).to_be_disabled()
    expect(page.get_by_test_id("why-pay-wallet")).to_contain_text("4.00")
    page.get_by_test_id("pay-wallet-card").check()  # wallet first, the rest by card
    expect(page.get_by_test_id("split-card")).to_contain_text("6.00")

    # when they choose the $3 pass, the wallet can pay it: usable, chosen, no reason left
    page.get_by_test_id("addon-us-data-1gb").check()
    expect(page.get_by_test_id("total")).to_contain_text("3.00")
    expect(wallet).to_be_enabled()
    # "wallet first" is gone: the rule's first usable way is chosen, the wallet that covers it
    expect(wallet).to_be_checked()
    expect(page.get_by_test_id("why-pay-wallet")).to_have_count(0)
    expect(page.get_by_test_id("pay-wallet-card")).to_have_count(0)
    expect(page.get_by_test_id("split-wallet")).to_have_count(0)
    expect(page.get_by_test_id("pay")).to_contain_text("3.00")
    # the radio just used was not replaced: it keeps the focus
    assert page.evaluate("document.activeElement && document.activeElement.dataset.testid") == "addon-us-data-1gb"
    assert_language(page, language)
    shot(page, f"h33-addon-{language}-cheaper-pass")

    # and back to the $10 pass: disabled again with why, the rest by card chosen
    page.get_by_test_id("addon-us-data-5gb").check()
    expect(page.get_by_test_id("total")).to_contain_text("10.00")
    expect(wallet).to_be_disabled()
    expect(page.get_by_test_id("why-pay-wallet")).to_contain_text("10.00")
    # the list re-rendered still re-prices the panel when a way is chosen
    page.get_by_test_id("pay-wallet-card").check()
    expect(page.get_by_test_id("split-card")).to_contain_text("6.00")
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_cheaper_plan_makes_the_wallet_usable(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    user, line = world(language, "10.00")
    log_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/lines/{line.pk}/renew/?plan=us-30day")
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/renew/.*"))
    assert_language(page, language)
    wallet = page.get_by_test_id("pay-wallet")
    expect(wallet).to_be_disabled()
    expect(page.get_by_test_id("why-pay-wallet")).to_contain_text("25.00")
    expect(page.get_by_test_id("pay-wallet-card" if language == "en" else "pay-alipay")).to_be_checked()

    page.get_by_test_id("plan-us-week").check()
    expect(page.get_by_test_id("total")).to_contain_text("7.00")
    expect(wallet).to_be_enabled()
    # The way chosen is kept when still usable: 支付宝, first for a Chinese reader on the $25 plan;
    # in English "wallet first" was chosen, is gone, and the wallet that covers it is first now.
    expect(page.get_by_test_id("pay-wallet" if language == "en" else "pay-alipay")).to_be_checked()
    expect(page.get_by_test_id("why-pay-wallet")).to_have_count(0)
    assert page.evaluate("document.activeElement && document.activeElement.dataset.testid") == "plan-us-week"
    shot(page, f"h33-renew-{language}-cheaper-plan")

    # two periods cost $14: the wallet cannot pay them, says why, and another way is chosen
    page.get_by_test_id("periods").select_option("2")
    expect(page.get_by_test_id("total")).to_contain_text("14.00")
    expect(wallet).to_be_disabled()
    expect(page.get_by_test_id("why-pay-wallet")).to_contain_text("14.00")
    expect(page.locator("input[name=pay_with]:checked")).to_have_count(1)
    assert page.console_errors == []
