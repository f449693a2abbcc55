"""An account's life in a phone-sized Chromium, in both languages: register, verify the email
address through the emailed link, log out and in without a second factor, turn TOTP on, reset
the password through the emailed link, and log in with the new password and a TOTP code."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from refill.customers.models import User
from tests.e2e.helpers import assert_language, choose_language, log_in, log_out, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD, NEW_PASSWORD = "account-pass-2026", "account-pass-2027-new"


def emailed_link(mailoutbox, to: str, path: str) -> str:
    message = [m for m in mailoutbox if to in m.to][-1]
    return re.search(r"https?://\S*" + re.escape(path) + r"\S*", message.body).group(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_register_verify_two_factor_and_reset(live_server, phone_page, shot, language, mailoutbox):
    page, base = phone_page, live_server.url
    email = f"account-{language}@example.com"

    # given a visitor who registers in their language
    choose_language(page, base, language)
    page.goto(base + "/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    shot(page, f"account-{language}-1-register")
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()
    # then they are asked to open the link sent to them, and are not logged in before they do
    page.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))
    assert_language(page, language)
    shot(page, f"account-{language}-2-check-your-email")
    user = User.objects.get(email=email)
    assert not EmailAddress.objects.get(user=user).verified

    # when they follow the link in the verification email and confirm, they are logged in
    page.goto(emailed_link(mailoutbox, email, "/accounts/confirm-email/"))
    assert_language(page, language)
    shot(page, f"account-{language}-3-confirm-email")
    page.locator("form[action*='/accounts/confirm-email/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/lines/$"))
    assert EmailAddress.objects.get(user=user).verified

    # then they log out and in with the password alone
    log_out(page)
    log_in(page, base, email, PASSWORD)
    assert_language(page, language)
    shot(page, f"account-{language}-4-logged-in")

    # and turn on two-factor authentication with an authenticator app
    page.goto(base + "/accounts/2fa/totp/activate/")
    if "/accounts/reauthenticate/" in page.url:  # allauth asks for the password again first
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action*='/accounts/reauthenticate/'] button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/$"))
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    page.fill("input[name=code]", totp_code(secret))
    shot(page, f"account-{language}-5-totp-activate")
    page.locator("input[name=code]").press("Enter")
    page.wait_for_load_state()
    expect(page.locator("input[name=code]")).to_have_count(0)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    # when, logged out, they forget their password and reset it through the emailed link
    log_out(page)
    page.goto(base + "/accounts/password/reset/")
    assert_language(page, language)
    page.fill("input[name=email]", email)
    page.locator("form[action$='/accounts/password/reset/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/accounts/password/reset/done/$"))
    page.goto(emailed_link(mailoutbox, email, "/accounts/password/reset/key/"))
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    shot(page, f"account-{language}-6-new-password")
    page.locator("main button[type=submit][name=action]").click()
    page.wait_for_url(re.compile(r".*/accounts/password/reset/key/done/$"))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # then the old password no longer works, and the new one with a TOTP code does
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action*='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
    log_in(page, base, email, NEW_PASSWORD, secret=secret, steps_ahead=1)  # the activation used this step's code
    assert_language(page, language)
    shot(page, f"account-{language}-7-logged-in-with-totp")
    assert [e for e in page.console_errors if "status of 400" not in e] == []
