"""A TOTP code works once (docs/security.md 2.8): a code seen over a staff member's shoulder, or
captured, cannot sign anyone in a second time within its 90 seconds of validity. allauth remembers
used codes in the cache, which is the database (``CACHES``), so every web process refuses it."""

from datetime import UTC, datetime

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.urls import reverse

from refill.customers.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "staff-pass-2026-x"
NOW = datetime(2026, 6, 10, 12, 20, 5, tzinfo=UTC)  # five seconds into a 30-second step


def code(secret: str, step: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(NOW.timestamp()) // 30 + step))


@pytest.fixture
def staff_with_totp():
    user = User.objects.create_user("finance7@example.com", PASSWORD, role=User.Role.STAFF, is_staff=True)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    with time_machine.travel(NOW, tick=False):
        yield user, secret


def second_step(user) -> Client:
    """A browser that has passed the password and is asked for the code."""
    browser = Client()
    answer = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == reverse("mfa_authenticate")
    return browser


def signed_in(browser: Client) -> bool:
    return SESSION_KEY in browser.session and browser.get("/backoffice/").status_code == 200


def test_a_code_used_to_sign_in_is_refused_the_second_time(staff_with_totp):
    user, secret = staff_with_totp
    first = second_step(user)
    assert first.post(reverse("mfa_authenticate"), {"code": code(secret)})["Location"] == "/backoffice/"
    assert signed_in(first)

    replay = second_step(user)  # someone else, the same code, within the same 30 seconds
    refused = replay.post(reverse("mfa_authenticate"), {"code": code(secret)})
    assert refused.status_code == 200 and refused.context["form"].errors  # the code form again, with an error
    assert not signed_in(replay)
    # The next code (allowed one step early) still works: it is the used code that is refused.
    assert replay.post(reverse("mfa_authenticate"), {"code": code(secret, 1)})["Location"] == "/backoffice/"
    assert signed_in(replay)


def test_a_used_code_is_remembered_where_every_process_sees_it(staff_with_totp):
    user, secret = staff_with_totp
    second_step(user).post(reverse("mfa_authenticate"), {"code": code(secret)})
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM refill_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(f"allauth.mfa.totp.used?user={user.pk}&code={code(secret)}" in key for key in keys), keys
