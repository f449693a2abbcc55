"""The log in, sign up, password reset, one-time code and two-factor pages are Refill's own pages
on a phone, in both languages: Refill's layout and card, labels above their fields with no colon
after them, Refill's buttons; the sign-up page says an email or a mobile number is enough. Staff
log in there too (the admin's own login page sends them to it) and go password → code → back office
with no other page between."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from refill.customers.models import User
from tests.e2e.helpers import assert_language, choose_language, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "login-pages-2026-x"
LABELS = "() => [...document.querySelectorAll('main label')].map((l) => l.textContent.trim())"


def assert_refill_form_page(page, language: str, form: str) -> None:
    """The page just loaded is in Refill's layout and style, with its form's labels and button."""
    assert_language(page, language)
    assert page.get_by_test_id("auth-page").count() == 1, page.url
    labels = page.evaluate(LABELS)
    assert labels, page.url
    assert [label for label in labels if label.endswith((":", "：")) or not label] == [], (page.url, labels)
    submit = page.locator(f"{form} button[type=submit]").first
    assert "button" in (submit.get_attribute("class") or "").split(), page.url
    # Refill's stylesheet styles it: its brand colour fills the button, full-width fields on a phone.
    assert submit.evaluate("(b) => getComputedStyle(b).backgroundColor") == "rgb(11, 107, 203)"
    width = page.locator(f"{form} input:not([type=hidden]):not([type=checkbox])").first.bounding_box()["width"]
    assert width > 300, (page.url, width)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_login_signup_and_reset_pages_are_refills(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    choose_language(page, base, language)

    page.goto(base + "/accounts/login/")
    assert_refill_form_page(page, language, "[data-testid=login-form]")
    shot(page, f"login-pages-{language}-1-login")
    # one wording: the nav, the title, the heading and the button all say "Log in"
    nav_login = page.locator("nav a[href$='/accounts/login/']").inner_text().strip()
    assert page.locator("h1").inner_text().strip() == nav_login
    assert page.get_by_test_id("auth-submit").inner_text().strip() == nav_login
    assert page.title().startswith(nav_login)

    page.get_by_test_id("signup-link").click()
    page.wait_for_url(re.compile(r".*/accounts/signup/$"))
    assert_refill_form_page(page, language, "[data-testid=signup-form]")
    nav_signup = page.locator("nav a[href$='/accounts/signup/']").inner_text().strip()
    assert page.locator("h1").inner_text().strip() == nav_signup
    assert page.get_by_test_id("auth-submit").inner_text().strip() == nav_signup
    # each of email and mobile number says it may be left out when the other is given
    email_label = page.locator("[data-testid=field-email] label").inner_text()
    phone_label = page.locator("[data-testid=field-phone] label").inner_text()
    optional = {"en": "optional", "zh-hans": "选填"}[language]
    assert optional in email_label and optional in phone_label, (email_label, phone_label)
    shot(page, f"login-pages-{language}-2-signup")

    # a sign-up with neither: the error is on the page, in Refill's style, and nothing is made
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_test_id("auth-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("form-error").count() == 1
    assert_refill_form_page(page, language, "[data-testid=signup-form]")
    shot(page, f"login-pages-{language}-3-signup-error")
    assert not User.objects.exists()

    page.goto(base + "/accounts/password/reset/")
    assert_refill_form_page(page, language, "[data-testid=password-reset-form]")
    shot(page, f"login-pages-{language}-4-password-reset")

    page.goto(base + "/accounts/login/code/")
    assert_refill_form_page(page, language, "[data-testid=login-code-form]")
    shot(page, f"login-pages-{language}-5-login-code")


def staff_member(email: str) -> tuple[User, str]:
    user = User.objects.create_user(email, PASSWORD, role=User.Role.STAFF, is_staff=True, is_superuser=True)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return user, secret


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("start", ["/backoffice/", "/admin/"])
def test_staff_log_in_on_refills_page_then_the_code_then_work(live_server, phone_page, shot, language, start):
    page, base = phone_page, live_server.url
    user, secret = staff_member(f"staff-{language}-{start.strip('/')}@example.com")
    choose_language(page, base, language)

    pages = []
    page.on("framenavigated", lambda frame: pages.append(frame.url) if frame == page.main_frame else None)
    page.goto(base + start)  # logged out: sent to Refill's login page (never Django's admin login)
    page.wait_for_url(re.compile(r".*/accounts/login/\?next=.*"))
    assert_refill_form_page(page, language, "[data-testid=login-form]")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_test_id("auth-submit").click()

    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/$"))
    assert_refill_form_page(page, language, "[data-testid=mfa-form]")
    assert page.locator("input[name=code]").get_attribute("autocomplete") == "one-time-code"
    shot(page, f"login-pages-{language}-6-staff-code{start.replace('/', '-').rstrip('-')}")
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_test_id("auth-submit").click()
    page.wait_for_url(re.compile(".*" + re.escape(start) + "$"))
    page.wait_for_load_state()
    if start == "/backoffice/":  # Django's admin writes its own lang attribute
        assert_language(page, language)

    # password, then code, then where they were going: no "Confirm access", no admin login between
    paths = [re.sub(r"^https?://[^/]+", "", url).split("?")[0] for url in pages]
    assert paths == ["/accounts/login/", "/accounts/2fa/authenticate/", start], pages
    assert page.get_by_test_id("auth-page").count() == 0  # at work, not on another login step
