"""The counter on a phone, in both languages (h13, after issue 23): a line in grace shows when its
plan ended (as the portal says it), and the auto-renew form names the customer's cards by brand
with the backup card left unticked."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from playwright.sync_api import expect

from refill.agentdesk.models import Shop, ShopAgent
from refill.customers.models import User
from refill.lines.models import Line
from refill.payments.models import PaymentMethod
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "agent-pass-2026-y"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_line_in_grace_at_the_counter(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"grace-{language}@example.com", language=language)
    customer.shop_pin_hash = make_password("2468")
    customer.save()
    line = make_line(customer, market, plan, msisdn="+12025550163")
    Line.objects.filter(pk=line.pk).update(status="grace", period_end=timezone.now() - timedelta(days=2))
    for token, brand, last4, default in (("t1", "visa", "4242", True), ("t2", "mastercard", "4444", False)):
        PaymentMethod.objects.create(
            customer=customer, gateway="sandbox", token=token, brand=brand, last4=last4, exp_month=12,
            exp_year=2039, is_default=default, is_backup=not default,
        )  # fmt: skip
    shop = Shop.objects.create(code="main-st", name="Main Street", market=market)
    email = f"agent-grace-{language}@example.com"
    agent = User.objects.create_user(email, PASSWORD, role=User.Role.AGENT)
    EmailAddress.objects.create(user=agent, email=email, verified=True, primary=True)
    ShopAgent.objects.create(user=agent, shop=shop)
    secret = generate_totp_secret()
    TOTP.activate(agent, secret)

    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url=f"/agent/?msisdn={line.msisdn}", secret=secret)
    assert_language(page, language)
    page.fill("input[name=shop_pin]", "2468")
    page.get_by_test_id("verify-pin").click()
    expect(page.get_by_test_id("verified")).to_be_visible()
    expect(page.get_by_test_id("line-end")).to_have_attribute("data-ended", "true")
    expect(page.locator("label[for=id_use_default_method]")).to_contain_text("Visa")
    expect(page.locator("input[name=use_backup_method]")).not_to_be_checked()
    assert "4242" not in page.inner_text("main")
    shot(page, f"counter-grace-{language}-1-desk")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390
    assert page.console_errors == []
