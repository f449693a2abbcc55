"""A promotion code on the renewal page, in a phone-sized Chromium, in both languages: the running
automatic offer is shown without a code, an expired code says why, a good one re-prices the order
before payment, and the confirmation and receipt show what it took off and gave."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.promotions.models import Promotion, Redemption
from refill.subscriptions.models import Bucket
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "automatic": "Applied automatically",
        "expired": "This promotion has ended.",
        "bonus": "Bonus: 10 GB",
        "confirmed": "Renewal confirmed",
    },
    "zh-hans": {
        "automatic": "自动优惠",
        "expired": "此优惠活动已结束。",
        "bonus": "赠送：10 GB",
        "confirmed": "续费成功",
    },
}


def offer(market, **fields) -> Promotion:
    values = dict(market=market, exclusive=False, starts_at=timezone.now() - timedelta(days=3))
    return Promotion.objects.create(**{**values, **fields})


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_code_on_the_renewal_page(live_server, phone_page, shot, language):
    text = TEXT[language]
    page = phone_page
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"promo-{language}@example.com", language=language, password="promo-pass-2026")
    line = make_line(customer, market, plan, msisdn="+12025550177")
    renew(line, plan)
    offer(market, name_en="Holiday bonus", name_zh_hans="假日赠送", kind="bonus_allowance", bonus_data_mb=10240,
          priority=10)  # fmt: skip
    offer(market, code="SAVE10", name_en="10% off", name_zh_hans="立减 10%", kind="percent_off", percent=Decimal(10),
          priority=20)  # fmt: skip
    offer(market, code="SUMMER", name_en="Summer", name_zh_hans="夏季", kind="percent_off", percent=Decimal(50),
          starts_at=timezone.now() - timedelta(days=90), ends_at=timezone.now() - timedelta(days=1))  # fmt: skip

    # given the customer signed in, on their line's renewal page
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", "promo-pass-2026")
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/lines/$"))
    page.get_by_test_id("renew").first.click()
    page.wait_for_load_state()
    # the running automatic offer is there without a code
    expect(page.get_by_test_id("promotion")).to_contain_text(text["automatic"])
    expect(page.get_by_test_id("promotion-gives")).to_have_text(text["bonus"])
    expect(page.get_by_test_id("total")).to_contain_text("25.00")

    # when they type an expired code (behind "Have a promotion code?"), the price panel says why, in
    # their language
    expect(page.get_by_test_id("promotion-code")).to_be_hidden()
    page.get_by_test_id("promotion-toggle").click()
    page.get_by_test_id("promotion-code").fill("summer")
    page.get_by_test_id("promotion-code").press("Tab")
    expect(page.get_by_test_id("code-error")).to_have_text(text["expired"])
    shot(page, f"promotion-{language}-1-expired")

    # and a good one re-prices the order before payment
    page.get_by_test_id("promotion-code").fill("save10")
    page.get_by_test_id("promotion-code").press("Tab")
    expect(page.get_by_test_id("discount")).to_contain_text("2.50")
    expect(page.get_by_test_id("total")).to_contain_text("22.50")
    expect(page.get_by_test_id("pay")).to_contain_text("22.50")
    expect(page.get_by_test_id("code-error")).to_have_count(0)
    shot(page, f"promotion-{language}-2-applied")

    # then paying charges the discounted price and grants the bonus
    page.get_by_test_id("pay-card").check()  # a new card (a Chinese reader is offered 支付宝 first)
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert text["confirmed"] in page.content()
    expect(page.get_by_test_id("amount")).to_contain_text("22.50")
    expect(page.get_by_test_id("promotion")).to_have_count(2)
    shot(page, f"promotion-{language}-3-confirmed")
    order_id = int(re.search(r"/orders/(\d+)/", page.url).group(1))
    assert set(Redemption.objects.filter(order_id=order_id).values_list("status", flat=True)) == {"redeemed"}
    assert Bucket.objects.get(line=line, source="promotion").granted == 10240

    # and the receipt lists the code's discount
    page.goto(f"{live_server.url}/orders/{order_id}/")
    expect(page.get_by_test_id("discount")).to_contain_text("2.50")
    assert "SAVE10" in page.content()
    shot(page, f"promotion-{language}-4-receipt")
    assert page.console_errors == []
