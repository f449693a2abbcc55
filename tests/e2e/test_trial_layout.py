"""Layout a new-user trial found wrong on a 390 × 844 phone, in both languages: on allauth's pages
a button touched the next heading, and on the Chinese home page the plan names' Chinese characters
were not bold while their digits were (a weight the CJK font has no face for)."""

import pytest

from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_customer, make_market, make_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GAP = """([above, below]) => {
  const a = document.querySelector(above).getBoundingClientRect();
  const b = document.querySelector(below).getBoundingClientRect();
  return b.top - a.bottom;
}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_allauth_buttons_keep_clear_of_the_next_heading(live_server, phone_page, shot, language):
    make_customer("space@example.com", language=language, password="space-pass-2026")
    log_in(phone_page, live_server.url, "space@example.com", "space-pass-2026")
    phone_page.goto(live_server.url + "/accounts/email/")
    assert_language(phone_page, language)
    assert phone_page.evaluate(GAP, ["form.auth-form .actions", "form.auth-form ~ h2"]) >= 16
    shot(phone_page, f"h38-email-{language}")
    phone_page.goto(live_server.url + "/accounts/2fa/")
    assert phone_page.evaluate(GAP, [".auth-panel .actions", ".auth-panel + .auth-panel h2"]) >= 16
    shot(phone_page, f"h38-2fa-{language}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_plan_names_on_the_home_page_are_bold_as_a_whole(live_server, phone_page, shot, language):
    market = make_market()
    make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    choose_language(phone_page, live_server.url, language)
    name = phone_page.get_by_test_id("landing-plan-us-30day").locator(".plan-name")
    # 700, the weight of the headings: the CJK fonts have a bold face (or a synthetic one) for it,
    # not for 600, so at 600 the digits were bold and the characters were not.
    assert int(name.evaluate("element => getComputedStyle(element).fontWeight")) >= 700
    shot(phone_page, f"h38-landing-{language}")
