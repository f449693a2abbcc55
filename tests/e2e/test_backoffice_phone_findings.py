"""A new user's findings on the back office at 390 px (hfixa): the reports page and the catalog
fit a phone in both languages (each wide table scrolls inside its own card, with a hint, or stacks
its rows), the dashboard's search placeholder is not cut off, and each ways-to-pay switch is a
touch target of at least 24x24 px."""

from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.utils import timezone

from refill.customers.models import User
from refill.renewals.models import RenewalAttempt
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan, make_promotion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "admin-pass-2026-x"
SHOTS = Path("/tmp/hfixa-shots")


def _fits(page) -> None:
    wide = page.evaluate("document.scrollingElement.scrollWidth")
    assert wide <= 390, f"{page.url} is {wide} px wide on a 390 px phone"


def _demo_like_data():
    """Several markets with long names, plans with long names, lines ending soon, declines."""
    now = timezone.now()
    markets = [
        make_market(),
        make_market(
            "cn", name="Mainland China", name_zh_hans="中国大陆", region="CN", currency="CNY", time_zone="Asia/Shanghai"
        ),
        make_market(
            "gb",
            name="United Kingdom of Great Britain and Northern Ireland",
            region="GB",
            currency="GBP",
            time_zone="Europe/London",
        ),
    ]
    msisdns = iter(
        ["+12025550111", "+8613800138011", "+447911123451", "+12025550112", "+8613800138012", "+447911123452"]
    )
    number = 0
    for market in markets:
        plan = make_plan(
            market,
            f"{market.code}-unlimited-30day-premium-plus",
            price="129.00",
            name_en="Unlimited premium plus, 30 days with roaming",
            name_zh_hans="无限畅享高级套餐 30 天（含漫游）",
        )
        make_promotion(
            market,
            code=f"WELCOME{market.code.upper()}2026",
            name_en="Welcome back offer for returning customers",
            starts_at=now - timedelta(days=30),
        )
        for _ in range(2):
            number += 1
            customer, _ = make_customer(f"c{number}@example.com")
            line = make_line(customer, market, plan, msisdn=next(msisdns))
            line.period_end = now + timedelta(days=3)
            line.save(update_fields=["period_end"])
            for reason in ("insufficient_funds", "too_many_declines"):
                RenewalAttempt.objects.create(
                    line=line,
                    cycle_end=line.period_end,
                    number=number * 10 + len(reason),
                    due_at=now,
                    status="failed",
                    reason=reason,
                    finished_at=now - timedelta(hours=1),
                )
    return markets


def _admin(language: str) -> tuple[str, str]:
    email = f"admin-{language}@example.com"
    staff = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="admin"))
    EmailAddress.objects.create(user=staff, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return email, secret


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_back_office_pages_fit_a_phone(live_server, phone_page, language):
    page, base = phone_page, live_server.url
    markets = _demo_like_data()
    email, secret = _admin(language)
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{language}-{name}.png"), full_page=True)

    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url="/backoffice/", secret=secret)
    assert_language(page, language)

    # The dashboard: the search placeholder shows whole.
    field = page.get_by_test_id("dashboard-q")
    assert field.evaluate("el => el.scrollWidth <= el.clientWidth"), "the search placeholder is cut off"
    shoot("1-dashboard")
    _fits(page)

    today = timezone.localdate()
    page.goto(f"{base}/backoffice/reports/?date_from={today - timedelta(days=7):%Y-%m-%d}&date_to={today:%Y-%m-%d}")
    page.wait_for_selector('[data-testid="report-expiries"]')
    shoot("2-reports")
    _fits(page)
    # Each wide table scrolls inside its card, and says so.
    for section in ("renewals", "autorenew", "expiries"):
        scroller = page.locator(f'[data-testid="report-{section}"] .table-scroll').first
        assert scroller.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    hint = page.locator('[data-testid="report-expiries"] .scroll-hint')
    assert hint.is_visible()

    page.goto(f"{base}/backoffice/catalog/")
    page.wait_for_selector('[data-testid="plans"]')
    shoot("3-catalog")
    _fits(page)
    # The plan's links sit inside their card.
    card = page.get_by_test_id(f"market-{markets[2].code}").bounding_box()
    link = page.get_by_test_id(f"market-{markets[2].code}").locator('[data-testid="new-price"]').first.bounding_box()
    assert link["x"] + link["width"] <= card["x"] + card["width"]

    page.goto(f"{base}/backoffice/catalog/markets/{markets[0].pk}/ways-to-pay/")
    page.wait_for_selector('[data-testid="pay-methods-form"]')
    shoot("4-ways-to-pay")
    _fits(page)
    for switch in page.locator('[data-testid="pay-methods"] input[type="checkbox"]').all():
        box = switch.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, box
    for label in page.locator('[data-testid="pay-methods"] .way-switch label').all():
        assert label.bounding_box()["height"] >= 24

    page.goto(f"{base}/backoffice/catalog/markets/{markets[2].pk}/")
    shoot("5-market-settings")
    _fits(page)
    page.goto(f"{base}/backoffice/promotions/")
    shoot("6-promotions")
    _fits(page)
    assert page.console_errors == []
