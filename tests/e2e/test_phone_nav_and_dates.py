"""On a 390 x 844 phone, in both languages (issue 26): the navigation is one line, no page scrolls
sideways, a phone number never breaks over two lines, and a validity reads as a day and month.
The back office and the shop counter navigations fit the phone too."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group

from refill.agentdesk.models import Shop, ShopAgent
from refill.customers.models import User
from tests.e2e.helpers import assert_language, choose_language, log_in, open_more_menu
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "phone-nav-pass-2026"
DAY = {"en": re.compile(r"^\d{1,2} [A-Z][a-z]{2}$"), "zh-hans": re.compile(r"^\d{1,2}月\d{1,2}日$")}

# The navigation's visible items, the topbar's height and what, if anything, sticks out.
NAV_GEOMETRY = """() => {
  const nav = document.querySelector('.topbar nav');
  const items = [...nav.querySelectorAll(':scope > a, :scope > details > summary, :scope > form button')]
    .filter(item => item.getClientRects().length);
  const boxes = items.map(item => item.getBoundingClientRect());
  return {
    tops: boxes.map(box => Math.round(box.top)),
    heights: boxes.map(box => box.height),
    rights: boxes.map(box => box.right),
    topbar: document.querySelector('.topbar').getBoundingClientRect().height,
    brandTop: document.querySelector('.brand').getBoundingClientRect().top,
    count: items.length,
  };
}"""

# For every element showing a phone number: how many lines its text takes.
NUMBER_LINES = """() => [...document.querySelectorAll('.msisdn')].filter(el => el.getClientRects().length).map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  return {text: el.textContent.trim(), lines: tops.size};
})"""


def _fits(page) -> None:
    wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= 390 and inner <= 390, f"{page.url}: {wide} px wide on a 390 px phone (innerWidth {inner})"


def _nav_is_one_line(page) -> None:
    geometry = page.evaluate(NAV_GEOMETRY)
    assert geometry["count"] >= 2, geometry
    assert max(geometry["tops"]) - min(geometry["tops"]) <= 2, f"{page.url}: nav items on several lines {geometry}"
    assert geometry["topbar"] <= 60, f"{page.url}: the top bar is {geometry['topbar']} px tall (more than one line)"
    assert max(geometry["rights"]) <= 390, geometry
    assert min(geometry["heights"]) >= 24, f"{page.url}: a tap target under 24 px {geometry}"


def _numbers_never_break(page, *, at_least: int = 0) -> None:
    numbers = page.evaluate(NUMBER_LINES)
    assert len(numbers) >= at_least, f"{page.url}: expected {at_least} phone numbers, found {numbers}"
    broken = [number for number in numbers if number["lines"] != 1]
    assert not broken, f"{page.url}: phone numbers broken over lines: {broken}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_customer_pages_on_a_phone(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    make_plan(market, "us-week", price="7.00", validity_count=7, name_en="7-Day Plan", name_zh_hans="7天套餐")
    customer, user = make_customer(f"nav-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550143")
    make_line(customer, market, plan, msisdn="+8613800138000")
    renew(line, plan)

    log_in(page, base, user.email, PASSWORD)
    assert_language(page, language)
    pages = [
        ("lines", "/lines/", 2),
        ("renew", f"/lines/{line.pk}/renew/", 1),
        ("orders", "/orders/", 1),
        ("wallet", "/wallet/", 0),
        ("help", "/help/", 0),
    ]
    for name, path, numbers in pages:
        page.goto(base + path)
        assert_language(page, language)
        shot(page, f"phone-nav-{language}-{name}")
        _fits(page)
        _nav_is_one_line(page)
        _numbers_never_break(page, at_least=numbers)
        assert "<" not in page.title(), page.title()  # the number's span is for the page's text only

    # a validity is a day and month, nothing more (it ends in 30 days: no weekday, no year)
    page.goto(base + "/lines/")
    end = page.get_by_test_id("period-end").first.inner_text().strip()
    assert DAY[language].match(end), end

    # "More" opens over the page, inside the screen, with tall enough targets, and still no sideways scroll
    open_more_menu(page)
    menu = page.locator(".nav-menu")
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    for target in ("nav-help", "logout", "lang-en" if language == "zh-hans" else "lang-zh"):
        assert page.get_by_test_id(target).bounding_box()["height"] >= 24, target
    shot(page, f"phone-nav-{language}-more")
    _fits(page)
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_back_office_and_counter_navs_fit_a_phone(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"bo-nav-{language}@example.com")
    make_line(customer, market, plan, msisdn="+12025550171")

    staff_email = f"staff-nav-{language}@example.com"
    staff = User.objects.create_user(staff_email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="admin"))
    EmailAddress.objects.create(user=staff, email=staff_email, verified=True, primary=True)
    staff_secret = generate_totp_secret()
    TOTP.activate(staff, staff_secret)

    choose_language(page, base, language)
    log_in(page, base, staff_email, PASSWORD, next_url="/backoffice/", secret=staff_secret)
    assert_language(page, language)
    for name, path in (("index", "/backoffice/"), ("customer", f"/backoffice/customers/{customer.pk}/")):
        page.goto(base + path)
        shot(page, f"phone-nav-{language}-backoffice-{name}")
        _fits(page)
        _nav_is_one_line(page)
        _numbers_never_break(page, at_least=1 if name == "customer" else 0)
    page.context.clear_cookies()

    shop = Shop.objects.create(code="main-st", name="Main Street", market=market)
    agent_email = f"agent-nav-{language}@example.com"
    agent = User.objects.create_user(agent_email, PASSWORD, role=User.Role.AGENT)
    EmailAddress.objects.create(user=agent, email=agent_email, verified=True, primary=True)
    ShopAgent.objects.create(user=agent, shop=shop)
    agent_secret = generate_totp_secret()
    TOTP.activate(agent, agent_secret)
    choose_language(page, base, language)
    log_in(page, base, agent_email, PASSWORD, next_url="/agent/", secret=agent_secret)
    assert_language(page, language)
    page.goto(f"{base}/agent/?msisdn=%2B12025550171")
    shot(page, f"phone-nav-{language}-counter")
    _fits(page)
    page.wait_for_selector('[data-testid="agent-line"]')
    _nav_is_one_line(page)
    _numbers_never_break(page, at_least=1)
    assert page.console_errors == []
