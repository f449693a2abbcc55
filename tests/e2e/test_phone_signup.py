"""A phone-only account in a phone-sized Chromium, in both languages: sign up with a mobile number
and no email, prove the number with the code sent by SMS, then, logged out, come back with a login
code by SMS instead of the password. Codes come from the SMS outbox (locmem backend)."""

import re

import pytest
from playwright.sync_api import expect

from refill.customers.models import User
from tests.e2e.helpers import assert_language, choose_language, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "phone-pass-2026-x"
NUMBER = "+12025550197"


def sms_code(outbox, to: str, language: str) -> str:
    sent = [message for message in outbox if message["to"] == to]
    assert sent, outbox
    body = sent[-1]["body"]
    # Sent in the visitor's language: the Chinese text has no Latin words but the brand.
    assert bool(re.search(r"[\u4e00-\u9fff]", body)) == (language == "zh-hans"), body
    return re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", body).group(1)  # allauth's format, e.g. HNMW-VCTJ


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_sign_up_by_phone_and_log_in_with_an_sms_code(live_server, phone_page, shot, language, _sms_outbox):
    page, base = phone_page, live_server.url

    # given a visitor who signs up in their language with a mobile number and no email
    choose_language(page, base, language)
    page.goto(base + "/accounts/signup/")
    page.fill("input[name=phone]", "(202) 555-0197")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    shot(page, f"phone-signup-{language}-1-form")
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()

    # then they are asked for the code sent to the number, and are not in yet
    page.wait_for_url(re.compile(r".*/accounts/phone/verify/$"))
    assert_language(page, language)
    shot(page, f"phone-signup-{language}-2-code")
    user = User.objects.get(phone=NUMBER)
    assert user.email is None and not user.phone_verified
    assert page.request.get(base + "/lines/", max_redirects=0).status == 302

    # when a wrong code is typed (the sent one with its last character changed), the number stays unproved
    code = sms_code(_sms_outbox, NUMBER, language)
    page.fill("input[name=code]", code[:-1] + ("A" if code[-1] != "A" else "B"))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_load_state()
    user.refresh_from_db()
    assert not user.phone_verified and "/accounts/phone/verify/" in page.url

    # then the right code proves it and lets them in, to their (empty) lines
    page.fill("input[name=code]", code)
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r".*/lines/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("line-new")).to_be_visible()
    expect(page.get_by_test_id("nav-lines")).to_be_visible()  # logged in: the customer's navigation
    shot(page, f"phone-signup-{language}-3-in")
    user.refresh_from_db()
    assert user.phone_verified and user.customer_id is not None

    # when, logged out, they ask for a login code by SMS instead of the password
    log_out(page)
    page.goto(base + "/accounts/login/code/")
    assert_language(page, language)
    page.fill("input[name=phone]", "+1 202 555 0197")
    shot(page, f"phone-login-{language}-1-request")
    page.locator("form[action$='/accounts/login/code/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/accounts/login/code/confirm/$"))
    assert_language(page, language)
    shot(page, f"phone-login-{language}-2-code")

    # then the code from the SMS logs them in
    page.fill("input[name=code]", sms_code(_sms_outbox, NUMBER, language))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r".*/lines/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("nav-lines")).to_be_visible()  # logged in: the customer's navigation
    shot(page, f"phone-login-{language}-3-in")
    # The wrong code was answered 4xx by design (the form with its error); nothing else failed.
    assert [error for error in page.console_errors if not re.search(r"status of 40\d", error)] == []
