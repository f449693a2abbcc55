"""A catalog manager orders a market's ways to pay on a phone (issue 28): signs in with a TOTP code,
opens "Ways to pay" from the catalog, moves PayPal to the top and Alipay above the card with the up
buttons (no script needed: each press answers the page reordered), switches WeChat Pay off, saves
with a reason; the customer's renew page then lists the ways in that order, WeChat Pay nowhere. Both
languages, 390 x 844, nothing wider than the phone."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from refill.audit.models import AuditEvent
from refill.customers.models import User
from tests.e2e.conftest import _page
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "catalog-pass-2026-x"


def _fits(page) -> None:
    wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= inner and wide <= 390, f"page is {wide} px wide on a 390 px phone"


def _listed(page) -> list[str]:
    return page.locator("[data-testid=pay-methods] > li").evaluate_all("rows => rows.map(r => r.dataset.method)")


def _move_up(page, way: str, times: int) -> None:
    for _ in range(times):
        before = _listed(page).index(way)
        page.get_by_test_id(f"up-{way}").click()
        page.wait_for_load_state()
        expect(page.get_by_test_id("pay-methods-unsaved")).to_be_visible()
        assert _listed(page).index(way) == before - 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_staff_order_a_markets_ways_to_pay_and_the_renew_page_follows(live_server, browser, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"payer-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550177")
    email = f"catalog-{language}@example.com"
    staff = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="catalog"))
    EmailAddress.objects.create(user=staff, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url="/backoffice/catalog/", secret=secret)
    assert_language(page, language)
    page.get_by_test_id(f"market-{market.code}").get_by_test_id("edit-pay-methods").click()
    page.wait_for_selector("[data-testid=pay-methods]")
    assert_language(page, language)
    expect(page.get_by_test_id("pay-methods-default")).to_be_visible()
    assert _listed(page) == [
        "wallet", "saved", "wallet_card", "card", "apple_pay", "paypal", "alipay", "wechat_pay", "pin",
    ]  # fmt: skip
    shot(page, f"ways-to-pay-{language}-1-defaults")
    _fits(page)

    _move_up(page, "paypal", 5)  # to the top
    _move_up(page, "alipay", 3)  # above the card: paypal, wallet, saved, alipay, wallet_card, card...
    assert _listed(page)[:6] == ["paypal", "wallet", "saved", "alipay", "wallet_card", "card"]
    page.get_by_test_id("on-wechat_pay").uncheck()
    page.get_by_test_id("reason").fill("PayPal first for US customers")
    shot(page, f"ways-to-pay-{language}-2-ordered")
    _fits(page)
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r".*/backoffice/catalog/$"))
    assert_language(page, language)
    assert AuditEvent.objects.filter(
        action="market.pay_methods_changed", reason="PayPal first for US customers"
    ).exists()
    expect(page.get_by_test_id(f"market-{market.code}").get_by_test_id("pay-methods-off")).to_be_visible()
    shot(page, f"ways-to-pay-{language}-3-catalog")

    # The customer, on their own phone: the renew page lists the ways in the market's order.
    context, customer_page = _page(
        browser, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        choose_language(customer_page, base, language)
        log_in(customer_page, base, user.email, PASSWORD, next_url=f"/lines/{line.pk}/renew/")
        assert_language(customer_page, language)
        ways = customer_page.locator("input[name=pay_with]").evaluate_all("inputs => inputs.map(i => i.value)")
        # no wallet money and no saved card: those are not offered; WeChat Pay is switched off
        assert ways == ["paypal", "alipay", "card", "apple_pay"]
        expect(customer_page.get_by_test_id("pay-paypal")).to_be_checked()
        expect(customer_page.get_by_test_id("pay-wechat_pay")).to_have_count(0)
        shot(customer_page, f"ways-to-pay-{language}-4-renew")
        _fits(customer_page)
        assert customer_page.console_errors == []
    finally:
        context.close()
    assert page.console_errors == []
