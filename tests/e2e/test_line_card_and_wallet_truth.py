"""Issue 23 items 4 and 7 in a phone-sized Chromium, in both languages: the line card names the
running period and the plan queued after it; the wallet says what an add-on payment bought and
tops up in the customer's own currency by default."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from refill.formatting import day_text
from refill.ledger.services import wallet_adjust
from refill.orders.paying import order_pay_wallet
from refill.renewals.addons import order_create_addon
from refill.subscriptions.models import Period
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "card-truth-2026"
GB = 1024


@pytest.fixture
def world():
    def build(language):
        us = make_market()
        cn = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
        thirty = make_plan(us, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
        unlimited = dict(data_mb=None, voice_minutes=None, sms=None)
        monthly = make_plan(us, "us-month", price="35.00", validity_kind="months", validity_count=1, **unlimited,
                            name_en="Monthly Unlimited", name_zh_hans="包月无限")  # fmt: skip
        booster = make_plan(us, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
                            name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
        cn_plan = make_plan(cn, "cn-month", price="50.00", validity_kind="months", validity_count=1)
        customer, user = make_customer(f"truth-{language}@example.com", language=language, password=PASSWORD)
        line = make_line(customer, us, thirty, msisdn="+12025550186")
        make_line(customer, us, thirty, msisdn="+12025550187")
        make_line(customer, cn, cn_plan, msisdn="+8613800138000")
        renew(line, thirty)
        renew(line, monthly)
        return customer, user, line, booster

    return build


def _day(value, language) -> str:
    with translation.override(language), timezone.override("America/New_York"):
        return day_text(value)  # as the card writes a day (refill.formatting)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_names_the_queued_plan_and_the_wallet_the_add_on(live_server, phone_page, shot, world, language):
    page, base = phone_page, live_server.url
    customer, user, line, booster = world(language)
    running, following = Period.objects.filter(line=line).order_by("start")

    # given the customer with a 30-day period running and Monthly Unlimited bought to follow it
    log_in(page, base, user.email, PASSWORD)
    page.goto(base + "/lines/")
    assert_language(page, language)
    card = page.locator(f"[data-testid=line][data-msisdn='{line.msisdn}']")
    # then the card speaks of the running period, and names what comes next with its own dates
    expect(card.get_by_test_id("plan")).to_have_text("30-Day Plan" if language == "en" else "30天套餐")
    expect(card.get_by_test_id("next-plan")).to_contain_text("Monthly Unlimited" if language == "en" else "包月无限")
    expect(card.get_by_test_id("next-plan")).to_contain_text(_day(following.start, language))
    expect(card.get_by_test_id("next-plan")).to_contain_text(_day(following.end, language))
    expect(card.get_by_test_id("allowance-data")).to_contain_text("20 GB")
    shot(page, f"line-card-queued-{language}-1-card")

    # when they buy an add-on from their wallet
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("20.00"), reason="goodwill", key=f"t-{language}")
    order = order_create_addon(customer=customer, line=line, plan=booster, idempotency_key=f"a-{language}",
                               language=language)  # fmt: skip
    order_pay_wallet(order=order)
    page.goto(base + "/wallet/")
    assert_language(page, language)
    # then the statement names the add-on, and the top-up offers their own currency first
    statement = page.get_by_test_id("wallet-USD")
    expect(statement).to_contain_text("5 GB Data Booster" if language == "en" else "5GB 流量加油包")
    expect(statement).not_to_contain_text("Paid for a renewal")
    expect(page.locator("select[name=market]")).to_have_value("us")
    shot(page, f"wallet-truth-{language}-1-statement")
    assert re.search(r"10\.00", statement.inner_text())
    assert page.console_errors == []
