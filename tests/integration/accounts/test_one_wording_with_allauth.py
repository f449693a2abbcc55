"""allauth's pages in Refill's words (issue 26): an account's address is 邮箱 / 邮箱地址 everywhere
(the email page's field said 电子邮件 under a 邮箱地址 heading; log in and sign up said 电子邮件
while the help centre and the account emails say 邮箱), and two-factor recovery codes are 恢复码
(allauth says 恢复代码). Our catalog is searched first, so our entries replace allauth's."""

import re

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from tests.factories import login, make_customer
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db


def _read(client: Client, url: str) -> str:
    """The words a reader meets on the page: its text, and its fields' placeholders and labels."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert '<html lang="zh-Hans"' in html
    attributes = re.findall(r'(?:placeholder|aria-label|title)="([^"]*)"', html)
    return visible_text(html) + " " + " ".join(attributes)


def _chinese_client(user=None) -> Client:
    client = Client()
    client.cookies["refill_language"] = "zh-hans"
    if user is not None:
        login(client, user)
    return client


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_the_pages_before_login_say_youxiang(url):
    words = _read(_chinese_client(), url)
    assert "邮箱" in words and "电子邮件" not in words, words


def test_the_email_page_says_youxiang_throughout():
    _, user = make_customer("wording@example.com", language="zh-hans")
    words = _read(_chinese_client(user), "/accounts/email/")
    assert "邮箱地址" in words and "电子邮件" not in words and "Email" not in words, words


@pytest.mark.parametrize("with_codes", [False, True])
def test_the_two_factor_page_says_huifuma(with_codes):
    _, user = make_customer("codes@example.com", language="zh-hans")
    if with_codes:
        TOTP.activate(user, generate_totp_secret())
        RecoveryCodes.activate(user)
    words = _read(_chinese_client(user), "/accounts/2fa/")
    assert "恢复码" in words and "恢复代码" not in words, words
