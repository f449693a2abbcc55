"""Every absolute link Refill sends (emails and SMS, allauth's account emails included) is built from
one setting, REFILL_PUBLIC_URL, which the demo derives from PORT; every account email is Refill's
own: signed by the operator, in the customer's language, never allauth's "Hello from <host>!"."""

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db

PUBLIC = "https://refill.example.net"
PASSWORD = "correct-horse-42"
OPERATOR = "Example Mobile Ltd"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Every email allauth can send with Refill's settings (account and two-factor).
ACCOUNT_EMAILS = [
    "account/email/account_already_exists",
    "account/email/email_changed",
    "account/email/email_confirm",
    "account/email/email_confirmation",
    "account/email/email_confirmation_signup",
    "account/email/email_deleted",
    "account/email/login_code",
    "account/email/password_changed",
    "account/email/password_reset",
    "account/email/password_reset_code",
    "account/email/password_reset_key",
    "account/email/password_set",
    "account/email/unknown_account",
    "mfa/email/recovery_codes_generated",
    "mfa/email/totp_activated",
    "mfa/email/totp_deactivated",
]


@pytest.fixture(autouse=True)
def public(settings):
    settings.REFILL_PUBLIC_URL = PUBLIC
    settings.REFILL_OPERATOR = {**settings.REFILL_OPERATOR, "name": OPERATOR}


def links(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


def assert_ours(message, language: str) -> None:
    """Branded, in ``language``, every link on the public URL."""
    assert message.subject.startswith(OPERATOR)
    assert OPERATOR in message.body and "Hello from" not in message.body
    assert message.extra_headers["Content-Language"] == language
    assert bool(CJK.search(message.body)) == (language == "zh-hans")
    assert links(message.body) and all(link.startswith(PUBLIC + "/") for link in links(message.body))


def test_the_demo_links_to_the_port_it_serves_on():
    env = {k: v for k, v in os.environ.items() if k not in {"REFILL_PUBLIC_URL", "DATABASE_URL"}}
    code = "from django.conf import settings; print(settings.REFILL_PUBLIC_URL)"
    shown = {}
    for extra in ({"PORT": "8766"}, {"PORT": "8766", "REFILL_PUBLIC_URL": "https://shop.example.com/"}, {}):
        run_env = {**{k: v for k, v in env.items() if k != "PORT"}, **extra, "PYTHONPATH": str(settings.SRC_DIR),
                   "DJANGO_SETTINGS_MODULE": "refill.config.settings.dev"}  # fmt: skip
        out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], env=run_env,
                             cwd=Path(settings.REPO_DIR), capture_output=True, text=True, check=True)  # fmt: skip
        shown[extra.get("REFILL_PUBLIC_URL", extra.get("PORT", "-"))] = out.stdout.strip()
    assert shown == {
        "8766": "http://127.0.0.1:8766",
        "https://shop.example.com/": "https://shop.example.com",
        "-": "http://127.0.0.1:8000",
    }


def test_every_account_email_is_refills_own():
    ours = Path(settings.SRC_DIR) / "refill" / "templates"
    for prefix in ACCOUNT_EMAILS:
        for part in ("subject", "message"):
            origin = Path(get_template(f"{prefix}_{part}.txt").origin.name)
            assert origin.is_relative_to(ours), f"{prefix}_{part}.txt comes from {origin}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_signup_email_is_branded_in_the_customers_language_and_links_to_the_public_url(language):
    client = Client()
    client.post(reverse("portal:set_language"), {"language": language, "next": "/"})
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "phone": "", "password1": PASSWORD, "password2": PASSWORD},
    )
    (message,) = mail.outbox
    assert_ours(message, language)
    (link,) = links(message.body)[:1]
    assert link.startswith(f"{PUBLIC}/accounts/confirm-email/")
    # the link works
    client.post(link.removeprefix(PUBLIC))
    assert EmailAddress.objects.get(email="new@example.com").verified


def test_a_password_reset_asked_from_an_english_browser_is_in_the_customers_language():
    make_customer("li@example.com", language="zh-hans", password=PASSWORD, tz="Asia/Shanghai")
    Client().post(reverse("account_reset_password"), {"email": "li@example.com"})
    (message,) = mail.outbox
    assert_ours(message, "zh-hans")
    assert re.search(rf"{re.escape(PUBLIC)}/accounts/password/reset/key/\S+/", message.body)


def test_signing_up_with_a_taken_address_emails_its_owner_a_public_reset_link():
    make_customer("taken@example.com", password=PASSWORD)
    Client().post(
        reverse("account_signup"),
        {"email": "taken@example.com", "phone": "", "password1": PASSWORD, "password2": PASSWORD},
    )
    (message,) = mail.outbox
    assert_ours(message, "en")
    assert f"{PUBLIC}/accounts/password/reset/" in message.body


def test_an_unknown_address_is_told_where_to_sign_up():
    Client().post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    (message,) = mail.outbox
    assert_ours(message, "en")
    assert f"{PUBLIC}/accounts/signup/" in message.body


def test_a_login_code_email_is_refills_own():
    make_customer("code@example.com", language="zh-hans", password=PASSWORD)
    client = Client()
    client.post(reverse("account_request_login_code"), {"email": "code@example.com"})
    (message,) = mail.outbox
    assert message.subject.startswith(OPERATOR) and message.extra_headers["Content-Language"] == "zh-hans"
    assert CJK.search(message.body) and "Hello from" not in message.body
    assert re.search(r"^[A-Z0-9-]{6,}$", message.body, re.MULTILINE)  # the code, on its own line


def test_a_password_change_notice_is_in_the_owners_language_and_time_zone():
    customer, user = make_customer("owner@example.com", language="zh-hans", password=PASSWORD, tz="Asia/Shanghai")
    client = Client()
    login(client, user)
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "another-pass-987", "password2": "another-pass-987"},
    )
    (message,) = mail.outbox
    assert_ours(message, "zh-hans")
    assert "北京时间" in message.body or "UTC+8" in message.body or "CST" in message.body  # the owner's zone
    assert f"{PUBLIC}/accounts/password/reset/" in message.body


def test_notice_emails_and_sms_link_to_the_public_url(_sms_outbox, django_capture_on_commit_callbacks, time_machine):
    from refill.notifications.services import notice

    time_machine.move_to(datetime(2026, 3, 2, 17, 0, tzinfo=UTC), tick=False)  # noon in New York: no quiet hours
    market = make_market()
    plan = make_plan(market, "p30")
    customer, _ = make_customer("sms@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550166")
    renew(line, plan)
    mail.outbox.clear()
    _sms_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notice(rule="expiry", subject_key=f"line:{line.pk}:t", customer=customer, line=line,
               context={"end": line.period_end, "days": 3}, channels=("email", "sms"))  # fmt: skip
    assert len(mail.outbox) == 1 and len(_sms_outbox) == 1
    bodies = [mail.outbox[0].body, _sms_outbox[0]["body"]]
    assert all(links(body) for body in bodies)
    assert all(link.startswith(PUBLIC + "/") for body in bodies for link in links(body))
