"""Small steps the browser journeys share: choosing the language, logging in through the real
form (with a TOTP code when asked), checking the page's language, typing a card, and a guest's
"Refill any number" checkout up to the choice of plan."""

import re
import time
from urllib.parse import urlencode

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

LANG_ATTRIBUTE = {"en": "en", "zh-hans": "zh-Hans"}


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """The authenticator app's code now (or ``steps_ahead`` 30-second steps later: allauth accepts
    one step either side, and refuses a code already used)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps_ahead))


def choose_language(page, base_url: str, language: str) -> None:
    page.goto(base_url + "/")
    if language == "zh-hans":
        if page.get_by_test_id("nav-more").count():  # logged in: the language is under "More"
            open_more_menu(page)
        page.get_by_test_id("lang-zh").click()
        page.wait_for_load_state()
    assert_language(page, language)


def assert_language(page, language: str) -> None:
    assert page.locator("html").get_attribute("lang") == LANG_ATTRIBUTE[language], page.url


def open_more_menu(page) -> None:
    """Log out, Settings, Help and the language live under the navigation's "More" on every size."""
    if not page.get_by_test_id("nav-more").evaluate("element => element.open"):
        page.get_by_test_id("nav-more-toggle").click()


def log_in(page, base_url: str, email: str, password: str, *, next_url: str = "", secret: str = "", steps_ahead=0):
    """Log in through the login form (then go on to ``next_url`` when given), entering a TOTP code
    on allauth's second step when ``secret`` is given."""
    page.goto(base_url + "/accounts/login/" + (f"?{urlencode({'next': next_url})}" if next_url else ""))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form[action*='/accounts/login/'] button[type=submit]").click()
    if secret:
        page.wait_for_url(re.compile(r".*/2fa/authenticate/.*"))
        page.fill("input[name=code]", totp_code(secret, steps_ahead))
        page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(".*" + re.escape(next_url or "/lines/") + "$"))


def log_out(page) -> None:
    open_more_menu(page)
    page.get_by_test_id("logout").click()
    # logged out when the page in front has no "More" menu (a logged-out page's links are all in view)
    page.get_by_test_id("nav-more").wait_for(state="detached")
    page.wait_for_load_state()


def fill_card(page, number: str = "4242 4242 4242 4242", expiry: str = "12/39", cvc: str = "123") -> None:
    """Type a card into the card fields every face shows (payments.card_form.CardForm)."""
    page.get_by_test_id("card-number").fill(number)
    page.get_by_test_id("card-expiry").fill(expiry)
    page.get_by_test_id("card-cvc").fill(cvc)


def refill_checkout(
    page, base_url: str, language: str, plan: str, *, number: str = "202 555 0143", shown: str = "+1 202-555-0143"
) -> None:
    """A guest in ``language`` gives ``number`` on "Refill any number" (the page shows it as
    ``shown``) and chooses the plan whose code is ``plan``."""
    choose_language(page, base_url, language)
    page.goto(base_url + "/refill/")
    assert_language(page, language)
    page.get_by_test_id("refill-msisdn").fill(number)
    page.get_by_test_id("refill-number-submit").click()
    expect(page.get_by_test_id("refill-form")).to_be_visible()
    expect(page.get_by_test_id("refill-number")).to_have_text(shown)
    page.get_by_test_id(f"refill-plan-{plan}").check()
