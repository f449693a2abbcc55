"""Staff on a phone, in both languages: log in on Refill's page (a first TOTP setup straight after
the password, with no "Confirm it is you" page; a set-up one asks only for the code), land on the
back office dashboard (today's figures, each a link; no list of customers), find a customer with
the search box and read their 360 (allowances in GB / minutes / SMS as on their line card, auto-renew
with its cap and the ways it would pay)."""

import re
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.utils import timezone

from refill.backoffice.dashboard import operator_today, sales_today
from refill.customers.models import User
from refill.payments.models import PaymentMethod
from refill.renewals.autorenew import autorenew_update
from refill.renewals.models import RenewalAttempt
from refill.subscriptions.models import Bucket
from refill.support.models import Ticket
from tests.e2e.helpers import assert_language, choose_language, log_in, totp_code
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "board-pass-2026-x"
SHOTS = Path("/work/helpers/shots/h24")


@pytest.fixture
def keep(shot):
    """``shot`` (var/screenshots, the CI artifacts), and a copy for the issue's review."""

    def take(page, name: str) -> None:
        shot(page, name)
        SHOTS.mkdir(parents=True, exist_ok=True)
        source = Path(__file__).resolve().parents[2] / "var" / "screenshots" / f"{name}.png"
        shutil.copy(source, SHOTS / f"{name}.png")

    return take


def paths_of(pages: list[str]) -> list[str]:
    return [re.sub(r"^https?://[^/]+", "", url).split("?")[0] for url in pages]


def staff_member(email: str, role: str = "admin", *, totp: bool = True) -> tuple[User, str]:
    user = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    user.groups.add(Group.objects.get(name=role))
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    if totp:
        TOTP.activate(user, secret)
    return user, secret


def _fits(page) -> None:
    wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= inner <= 390, f"page is {wide} px wide on a 390 px phone"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_first_login_sets_up_the_code_without_asking_the_password_again(live_server, phone_page, keep, language):
    page, base = phone_page, live_server.url
    user, _ = staff_member(f"new-staff-{language}@example.com", "support", totp=False)
    choose_language(page, base, language)
    pages = []
    page.on("framenavigated", lambda frame: pages.append(frame.url) if frame == page.main_frame else None)

    page.goto(base + "/backoffice/")
    page.wait_for_url(re.compile(r".*/accounts/login/\?next=.*"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("auth-submit").click()
    # straight to the QR code: no "Confirm it is you" page asking for the password just typed
    page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/.*"))
    assert_language(page, language)
    assert page.locator("input[name=password]").count() == 0
    keep(page, f"staff-first-login-{language}-1-totp-setup")
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/$"))
    assert_language(page, language)
    assert len(page.get_by_test_id("recovery-codes").input_value().split()) >= 8
    _fits(page)
    keep(page, f"staff-first-login-{language}-2-recovery-codes")
    page.get_by_test_id("auth-continue").click()
    page.wait_for_url(re.compile(r".*/backoffice/$"))
    assert page.get_by_test_id("dashboard").count() == 1
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # (redirects are not pages: /backoffice/ sends to the login, then on to the setup, with next)
    assert paths_of(pages) == [
        "/accounts/login/",
        "/accounts/2fa/totp/activate/",
        "/accounts/2fa/recovery-codes/",
        "/backoffice/",
    ], pages
    assert "/accounts/reauthenticate/" not in " ".join(pages)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_set_up_code_is_the_only_step_after_the_password(live_server, phone_page, keep, language):
    page, base = phone_page, live_server.url
    user, secret = staff_member(f"known-staff-{language}@example.com", "finance")
    choose_language(page, base, language)
    pages = []
    page.on("framenavigated", lambda frame: pages.append(frame.url) if frame == page.main_frame else None)
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("auth-submit").click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/$"))
    keep(page, f"staff-login-{language}-code")
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_test_id("auth-submit").click()
    page.wait_for_url(re.compile(r".*/backoffice/$"))
    assert_language(page, language)
    assert paths_of(pages) == ["/accounts/login/", "/accounts/2fa/authenticate/", "/backoffice/"], pages


@pytest.fixture
def shop():
    """A customer whose line was renewed today (20 GB, 1.5 GB used), with auto-renew on under a cap
    and two saved cards; another line whose auto-renewal failed; two tickets waiting."""
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer("mei.chen@example.com")
    customer.display_name = "Mei Chen"
    customer.save()
    line = make_line(customer, market, plan, msisdn="+12025550163")
    renew(line, plan)
    Bucket.objects.filter(line=line, kind="data").update(used=1536)
    autorenew_update(line=line, actor=None, enabled=True, cap_per_renewal=Decimal("30.00"))
    for brand, last4, default in (("visa", "4242", True), ("mastercard", "4444", False)):
        PaymentMethod.objects.create(
            customer=customer, gateway="sandbox", token=f"tok_{last4}", brand=brand, last4=last4, exp_month=12,
            exp_year=timezone.now().year + 3, is_default=default, is_backup=not default,
        )  # fmt: skip
    other, _ = make_customer("late.payer@example.com")
    failing = make_line(other, market, plan, msisdn="+12025550164")
    renew(failing, plan)
    now = timezone.now()
    RenewalAttempt.objects.create(
        line=failing, cycle_end=failing.period_end, number=1, due_at=now - timedelta(minutes=10),
        status="failed", reason="insufficient_funds", finished_at=now - timedelta(minutes=5),
    )  # fmt: skip
    for n in (1, 2):
        Ticket.objects.create(
            reference=f"SR-BOARD00{n}", category="other", subject="Help", status="new",
            awaiting_since=now - timedelta(hours=n),
        )  # fmt: skip
    return customer, line, failing


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_dashboard_search_and_360_on_a_phone(live_server, phone_page, keep, shop, language):
    page, base = phone_page, live_server.url
    customer, line, failing = shop
    user, secret = staff_member(f"board-{language}@example.com", "admin")
    choose_language(page, base, language)
    log_in(page, base, user.email, PASSWORD, secret=secret, next_url="/backoffice/")
    assert_language(page, language)
    before = sales_today(operator_today())[0]

    # the dashboard: each figure a link to its page; no list of customers
    board = page.get_by_test_id("dashboard")
    assert board.count() == 1
    renewals = page.get_by_test_id("figure-renewals").locator(".tile-figure").inner_text()
    assert renewals in {str(before), str(sales_today(operator_today())[0])}
    assert page.get_by_test_id("revenue-USD").count() == 1
    assert page.get_by_test_id("figure-attention").locator(".tile-figure").inner_text() == "1"
    assert page.get_by_test_id("figure-tickets").locator(".tile-figure").inner_text() == "2"
    for testid in ("figure-renewals", "figure-revenue", "figure-failed-today", "figure-attention", "figure-tickets",
                   "figure-esim"):  # fmt: skip
        assert page.get_by_test_id(testid).get_attribute("href"), testid
    assert page.get_by_test_id(f"attention-{failing.pk}").count() == 1
    assert "Mei Chen" not in page.locator("main").inner_text()  # nobody listed who needs nothing
    _fits(page)
    keep(page, f"backoffice-dashboard-{language}-1-home")

    # the failed auto-renewals behind the figure
    page.get_by_test_id("figure-attention").click()
    page.wait_for_url(re.compile(r".*/backoffice/auto-renew/attention/$"))
    assert page.get_by_test_id(f"attention-{failing.pk}").count() == 1
    _fits(page)
    keep(page, f"backoffice-dashboard-{language}-2-failed-auto-renewals")
    page.go_back()

    # the search box: a name finds the customer and opens their 360
    page.get_by_test_id("dashboard-q").fill("Mei")
    page.get_by_test_id("dashboard-q").press("Enter")
    page.wait_for_url(re.compile(rf".*/backoffice/customers/{customer.pk}/$"))
    assert_language(page, language)
    data = page.get_by_test_id("allowance-data").inner_text()
    assert "18.5 GB" in data and "20 GB" in data
    assert page.get_by_test_id("allowance-voice").count() == 1 and page.get_by_test_id("allowance-sms").count() == 1
    assert page.get_by_test_id("autorenew-cap").inner_text().strip() in {"$30.00", "US$30.00"}
    ways = page.get_by_test_id("autorenew-methods").locator("li")
    assert [w.get_attribute("data-testid") for w in ways.all()] == [
        "autorenew-method-wallet",
        "autorenew-method-default",
        "autorenew-method-backup",
    ]
    assert "4242" in page.get_by_test_id("autorenew-method-default").inner_text()
    _fits(page)
    keep(page, f"backoffice-dashboard-{language}-3-customer-360")

    # a search that finds several lists them, and only them
    page.goto(base + "/backoffice/customers/?q=example.com")
    found = page.get_by_test_id("customers-found").locator("tbody tr")
    assert found.count() == 2  # the two customers, not the staff logins
    keep(page, f"backoffice-dashboard-{language}-4-search-results")
    page.goto(base + "/backoffice/customers/")
    assert page.get_by_test_id("customers-found").count() == 0
    assert page.console_errors == []
