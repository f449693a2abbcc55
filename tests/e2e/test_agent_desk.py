"""A shop agent's day at the counter, in a phone-sized Chromium, in both languages: log in with
a password and a TOTP code, look a number up, verify the customer with a code sent to the number,
renew it for cash, open the 80 mm receipt (and print it to PDF on an 80 mm page), close the drawer.
And a renewal where the agent changes the plan and the periods (the price and every button follow
at once) and the customer pays from their wallet."""

import re
import time
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from refill.agentdesk.models import DrawerClose, Shop, ShopAgent
from refill.customers.models import User
from refill.ledger.services import wallet_adjust, wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"counter": "Shop counter", "receipt": "Receipt", "plan": "30-Day Plan", "cash": "Cash in a shop"},
    "zh-hans": {"counter": "门店柜台", "receipt": "收据", "plan": "30天套餐", "cash": "门店现金"},
}
PASSWORD = "agent-pass-2026-x"
MM = 72 / 25.4  # PDF points per millimetre


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(width), float(height)) for width, height in boxes]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_agents_day_at_the_counter(live_server, phone_page, shot, language, _sms_outbox):
    text, page = TEXT[language], phone_page
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"counter-{language}@example.com", language=language)
    customer.display_name = "Alice Example"
    customer.save()
    line = make_line(customer, market, plan, msisdn="+12025550161")
    shop = Shop.objects.create(code="main-st", name="Main Street", market=market)
    email = f"agent-{language}@example.com"
    agent = User.objects.create_user(email, PASSWORD, role=User.Role.AGENT)
    EmailAddress.objects.create(user=agent, email=email, verified=True, primary=True)
    ShopAgent.objects.create(user=agent, shop=shop)
    secret = generate_totp_secret()
    TOTP.activate(agent, secret)

    # given the agent, in their language, logs in with the password and then a TOTP code
    page.goto(live_server.url + "/")
    if language == "zh-hans":
        page.get_by_test_id("lang-zh").click()
        page.wait_for_load_state()
    page.goto(live_server.url + "/agent/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action*='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/2fa/authenticate/.*"))
    page.fill("input[name=code]", totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r".*/agent/$"))
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if language == "zh-hans" else "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(text["counter"])
    expect(page.get_by_test_id("desk-shop")).to_have_text("Main Street")

    # when they look the number up, they see its status and plan, and nothing about its owner
    page.fill("input[name=msisdn]", "202-555-0161")
    page.get_by_test_id("find").click()
    expect(page.get_by_test_id("agent-line")).to_contain_text("+1 202-555-0161")
    expect(page.get_by_test_id("line-plan")).to_have_text(text["plan"])
    expect(page.get_by_test_id("verify")).to_be_visible()
    assert "Alice Example" not in page.content()
    expect(page.get_by_test_id("renew")).to_have_count(0)
    shot(page, f"agentdesk-{language}-1-lookup")

    # and verify the customer with the code sent to the number
    page.get_by_test_id("send-code").click()
    expect(page.get_by_test_id("verify-code")).to_be_visible()
    assert _sms_outbox[-1]["to"] == "+12025550161"
    code = re.search(r"\b(\d{6})\b", _sms_outbox[-1]["body"]).group(1)
    page.fill("input[name=code]", code)
    page.get_by_test_id("verify-code").click()
    expect(page.get_by_test_id("verified")).to_be_visible()
    expect(page.get_by_test_id("owner")).to_have_text("Alice Example")
    shot(page, f"agentdesk-{language}-2-verified")

    # then renew it for cash
    page.get_by_test_id("renew").click()
    expect(page.get_by_test_id("total")).to_contain_text("25.00")
    shot(page, f"agentdesk-{language}-3-renew")
    page.get_by_test_id("pay-cash").click()
    page.wait_for_url(re.compile(r".*/agent/orders/\d+/receipt/$"))
    order = Order.objects.get(customer=customer)
    assert order.status == Order.Status.PAID and order.total == Decimal("25.00")
    line.refresh_from_db()
    assert line.period_end is not None

    # and the 80 mm receipt is there, in the customer's language, printable on an 80 mm roll
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_have_attribute("data-layout", "thermal")
    expect(receipt).to_contain_text(text["receipt"])
    expect(receipt).to_contain_text(text["plan"])
    expect(receipt).to_contain_text(text["cash"])
    expect(page.get_by_test_id("receipt-total")).to_contain_text("25.00")
    expect(page.get_by_test_id("print")).to_be_visible()  # shown by the static print script
    shot(page, f"agentdesk-{language}-4-receipt")
    page.emulate_media(media="print")
    expect(page.get_by_test_id("back-to-counter")).to_be_hidden()
    shot(page, f"agentdesk-{language}-5-receipt-print")
    sizes = page_sizes(page.pdf(prefer_css_page_size=True, print_background=True))
    assert sizes and all(abs(width - 80 * MM) < 1.5 for width, _ in sizes), sizes
    page.emulate_media(media="screen")
    page.get_by_test_id("layout-a4").click()
    expect(page.get_by_test_id("receipt")).to_have_attribute("data-layout", "a4")
    page.emulate_media(media="print")
    sizes = page_sizes(page.pdf(prefer_css_page_size=True))
    assert sizes and all(abs(width - 210 * MM) < 1.5 and abs(height - 297 * MM) < 1.5 for width, height in sizes)
    page.emulate_media(media="screen")

    # and at the end of the day they count the drawer and close it
    page.get_by_test_id("back-to-counter").click()
    page.get_by_test_id("nav-drawer").click()
    expect(page.get_by_test_id("drawer-sales")).to_contain_text("1")
    page.fill("input[name=counted]", "25.00")
    shot(page, f"agentdesk-{language}-6-drawer")
    page.get_by_test_id("close-drawer").click()
    page.wait_for_url(re.compile(r".*/agent/drawer/closes/\d+/$"))
    expect(page.get_by_test_id("expected")).to_contain_text("25.00")
    expect(page.get_by_test_id("counted")).to_contain_text("25.00")
    expect(page.get_by_test_id("difference")).to_contain_text("0.00")
    shot(page, f"agentdesk-{language}-7-closed")
    close = DrawerClose.objects.get(shop=shop)
    assert (close.expected, close.counted, close.difference) == (Decimal(25), Decimal(25), Decimal(0))
    assert page.console_errors == []  # no CSP violations, no script errors


def _agent_at_the_counter(page, live_server, language: str, market) -> None:
    """An agent of a shop in ``market``, logged in (password, then TOTP) in ``language``."""
    shop = Shop.objects.create(code="corner", name="Corner Shop", market=market)
    email = f"wallet-agent-{language}@example.com"
    agent = User.objects.create_user(email, PASSWORD, role=User.Role.AGENT)
    EmailAddress.objects.create(user=agent, email=email, verified=True, primary=True)
    ShopAgent.objects.create(user=agent, shop=shop)
    secret = generate_totp_secret()
    TOTP.activate(agent, secret)
    page.goto(live_server.url + "/")
    if language == "zh-hans":
        page.get_by_test_id("lang-zh").click()
        page.wait_for_load_state()
    page.goto(live_server.url + "/agent/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action*='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/2fa/authenticate/.*"))
    page.fill("input[name=code]", totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r".*/agent/$"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_price_follows_the_plan_and_the_wallet_pays(live_server, phone_page, shot, language):
    page = phone_page
    market = make_market()
    plan = make_30day_plan(market)
    make_plan(market, "us-day", price="7.00", name_en="Day Pass", name_zh_hans="日通行证")
    customer, _ = make_customer(f"wallet-{language}@example.com", language=language)
    customer.shop_pin_hash = make_password("2468")
    customer.save()
    make_line(customer, market, plan, msisdn="+12025550162")
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("30.00"), reason="goodwill", key="e2e-wallet")
    _agent_at_the_counter(page, live_server, language, market)
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if language == "zh-hans" else "en")

    # given a customer verified by their shop PIN
    page.fill("input[name=msisdn]", "202-555-0162")
    page.get_by_test_id("find").click()
    page.fill("input[name=shop_pin]", "2468")
    page.get_by_test_id("verify-pin").click()
    expect(page.get_by_test_id("verified")).to_be_visible()
    expect(page.get_by_test_id("wallet")).to_contain_text("30.00")
    expect(page.get_by_test_id("agent-auto-renew")).to_be_visible()
    shot(page, f"agentdesk-wallet-{language}-1-verified")

    # when the agent changes the plan, the price and every button follow at once
    page.get_by_test_id("renew").click()
    expect(page.get_by_test_id("pay-cash")).to_contain_text("25.00")
    page.get_by_test_id("plan-us-day").check()
    expect(page.get_by_test_id("total")).to_contain_text("7.00")
    expect(page.get_by_test_id("pay-cash")).to_contain_text("7.00")
    expect(page.get_by_test_id("pay-card")).to_contain_text("7.00")
    expect(page.get_by_test_id("pay-wallet")).to_contain_text("7.00")
    shot(page, f"agentdesk-wallet-{language}-2-day-pass")
    page.get_by_test_id("plan-us-30day").check()
    page.get_by_test_id("periods").select_option("2")
    expect(page.get_by_test_id("total")).to_contain_text("50.00")
    expect(page.get_by_test_id("pay-cash")).to_contain_text("50.00")
    # $30 in the wallet does not cover $50: the wallet first and a card for the rest is offered
    expect(page.get_by_test_id("pay-wallet")).to_have_count(0)
    expect(page.get_by_test_id("pay-wallet-card")).to_contain_text("20.00")
    shot(page, f"agentdesk-wallet-{language}-3-two-periods")
    page.get_by_test_id("periods").select_option("1")
    expect(page.get_by_test_id("pay-wallet")).to_contain_text("25.00")
    expect(page.get_by_test_id("wallet-balance")).to_contain_text("30.00")
    shot(page, f"agentdesk-wallet-{language}-4-wallet")

    # then the customer pays from their wallet, and the receipt says so
    page.get_by_test_id("pay-wallet").click()
    page.wait_for_url(re.compile(r".*/agent/orders/\d+/receipt/$"))
    order = Order.objects.get(customer=customer)
    assert order.status == Order.Status.PAID and order.total == Decimal("25.00")
    assert order.payments.get().method == Payment.Method.WALLET
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    expect(page.get_by_test_id("receipt-total")).to_contain_text("25.00")
    shot(page, f"agentdesk-wallet-{language}-5-receipt")
    assert page.console_errors == []  # htmx under the site's CSP: no violations, no script errors
