"""Accessibility checks on the main pages, in Chromium, in both languages: every form control has
an accessible name, images have alt text, text contrast meets WCAG 2.1 AA (4.5:1, 3:1 for large
text), and the keyboard reaches each page's main action with a visible focus indicator.

The checks run in the page from tests/e2e/a11y_audit.js (computed styles, no network)."""

from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group

from refill.agentdesk.models import Shop, ShopAgent
from refill.customers.models import User
from refill.help.demo import articles_seed
from refill.help.selectors import help_url
from refill.support.services import ticket_create
from tests.e2e.helpers import assert_language, choose_language, log_in, log_out
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text()
PASSWORD = "a11y-pass-2026-x"
FOCUS_VISIBLE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return el.matches(":focus-visible") && (outline || style.boxShadow !== "none");
}"""


def tab_to(page, selector: str, limit: int = 80) -> int:
    """Press Tab from the top of the page until ``selector`` has the focus; returns the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {selector} on {page.url}")


def check_page(page, shot, name: str, language: str, primary: str, problems: dict) -> None:
    """Audit the page just loaded, then Tab from the top to its main action and check the focus shows."""
    assert_language(page, language)
    found = page.evaluate(AUDIT)
    tab_to(page, primary)
    if not page.evaluate(FOCUS_VISIBLE):
        found.append(f"no visible focus on {primary}")
    shot(page, f"a11y-{language}-{name}")
    if found:
        problems[name] = found


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_customer_pages(live_server, phone_page, shot, language):
    page, base, problems = phone_page, live_server.url, {}
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"a11y-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550171")
    order, _ = renew(line, plan)
    articles_seed()

    choose_language(page, base, language)
    page.goto(base + "/")
    check_page(page, shot, "landing", language, "main a.button[href$='/accounts/login/']", problems)
    page.goto(base + "/accounts/login/")
    check_page(page, shot, "login", language, "form[action*='/accounts/login/'] button[type=submit]", problems)
    page.goto(base + "/accounts/signup/")
    check_page(page, shot, "signup", language, "form[action*='/accounts/signup/'] button[type=submit]", problems)
    page.goto(base + "/refill/")  # Refill any number, no account: the number, then its checkout
    check_page(page, shot, "refill", language, "[data-testid=refill-number-submit]", problems)
    page.goto(base + "/refill/to/+12025550171/")
    check_page(page, shot, "refill-checkout", language, "[data-testid=refill-submit]", problems)
    log_in(page, base, user.email, PASSWORD)
    pages = [
        ("lines", "/lines/", "[data-testid=renew]"),
        ("renew", f"/lines/{line.pk}/renew/", "[data-testid=pay]"),
        ("wallet", "/wallet/", "[data-testid=topup]"),
        ("order", f"/orders/{order.pk}/", "[data-testid=receipt-pdf]"),
        ("help", "/help/", "[data-testid=help-search-submit]"),
        ("help-article", help_url("payment-declined"), "[data-testid=contact-support]"),
        ("contact", "/support/new/", "[data-testid=contact-submit]"),
        ("not-found", "/no-such-page/", "[data-testid=error-help]"),
    ]
    for name, path, primary in pages:
        page.goto(base + path)
        check_page(page, shot, name, language, primary, problems)
    assert problems == {}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_staff_pages(live_server, desktop_page, shot, language):
    page, base, problems = desktop_page, live_server.url, {}
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"a11y-customer-{language}@example.com")
    order, _ = renew(make_line(customer, market, plan, msisdn="+12025550172"), plan)
    agent = staff_member(f"a11y-agent-{language}@example.com", role=User.Role.AGENT)
    ShopAgent.objects.create(user=agent, shop=Shop.objects.create(code="main-st", name="Main Street", market=market))
    finance = staff_member(f"a11y-finance-{language}@example.com", role=User.Role.STAFF, is_staff=True)
    finance.groups.add(Group.objects.get(name="finance"))

    choose_language(page, base, language)
    log_in(page, base, agent.email, PASSWORD, next_url="/agent/", secret=agent.totp_secret)
    check_page(page, shot, "agent-desk", language, "[data-testid=find]", problems)
    log_out(page)
    customer_page = f"/backoffice/customers/{customer.pk}/"
    log_in(page, base, finance.email, PASSWORD, next_url=customer_page, secret=finance.totp_secret)
    page.goto(base + customer_page + "?all=orders")  # the orders open, as after "show all"
    check_page(page, shot, "backoffice-customer", language, f"[data-testid=refund-{order.pk}]", problems)
    page.goto(base + "/backoffice/")  # the dashboard: its main action is the customer search
    check_page(page, shot, "backoffice-dashboard", language, "[data-testid=dashboard-search] button", problems)
    log_out(page)
    support = staff_member(f"a11y-support-{language}@example.com", role=User.Role.STAFF, is_staff=True)
    support.groups.add(Group.objects.get(name="support"))
    ticket = ticket_create(
        customer=customer, user=customer.users.first(), category="payment_refused", subject="Card refused",
        body="My card was refused.", files=[], language="en",
    ).ticket  # fmt: skip
    log_in(page, base, support.email, PASSWORD, next_url="/backoffice/support/", secret=support.totp_secret)
    page.goto(base + "/backoffice/support/")
    check_page(page, shot, "support-queue", language, f"[data-testid=queue-{ticket.reference}] a", problems)
    page.goto(base + f"/backoffice/support/{ticket.reference}/")
    check_page(page, shot, "support-ticket", language, "[data-testid=reply-form] button[type=submit]", problems)
    assert problems == {}


def staff_member(email: str, **fields) -> User:
    user = User.objects.create_user(email, PASSWORD, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)
    return user


def test_the_audit_finds_what_it_looks_for(phone_page):
    """The checks themselves: a page with one of each problem, and the same things done right."""
    phone_page.set_content("""<main style="background:#fff">
      <input name="nameless"> <label for="named">Name</label><input id="named" name="named">
      <input name="aria" aria-label="Search"> <button name="empty"></button> <button>Go</button>
      <img src="data:," > <img src="data:," alt="">
      <p style="color:#999">faint</p> <p style="color:#595959">dark enough</p>
      <p style="color:#999;font-size:24px">large but faint</p> <p style="color:#767676;font-size:24px">large</p>
      <a href="#" style="outline:none">no ring</a></main>""")
    problems = phone_page.evaluate(AUDIT)
    assert len(problems) == 5, problems
    assert any("[name=nameless]" in p for p in problems) and any("[name=empty]" in p for p in problems)
    assert any(p.startswith("image without alt") for p in problems)
    assert any('"faint"' in p for p in problems) and any('"large but faint"' in p for p in problems)
    tab_to(phone_page, "a")
    assert not phone_page.evaluate(FOCUS_VISIBLE)
    tab_to(phone_page, "button[name=empty]")
    assert phone_page.evaluate(FOCUS_VISIBLE)
