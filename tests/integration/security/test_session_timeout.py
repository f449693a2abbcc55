"""A browser session ends after 30 idle minutes and 12 hours after login, whatever the activity."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_customer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_limits"),
]

PASSWORD = "session-pass-2026"


@pytest.fixture
def _limits():
    with override_settings(REFILL_SESSION_IDLE_TIMEOUT=30 * 60, REFILL_SESSION_MAX_AGE=12 * 60 * 60):
        yield


def _logged_in(at) -> Client:
    client = Client()
    with time_machine.travel(at, tick=False):
        client.post(reverse("account_login"), {"login": "person@example.com", "password": PASSWORD})
        assert client.get(reverse("portal:home")).status_code == 200
    return client


def test_an_idle_session_ends_after_thirty_minutes():
    make_customer("person@example.com", password=PASSWORD)
    start = timezone.now()
    client = _logged_in(start)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get(reverse("portal:home")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=58), tick=False):  # 29 minutes since the last request
        assert client.get(reverse("portal:home")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=89), tick=False):
        response = client.get(reverse("portal:home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
        page = client.get(response["Location"]).content.decode()
        assert "You were logged out after a while without activity" in page
        assert client.get(reverse("portal:home")).status_code == 302  # and stays out


def test_a_busy_session_still_ends_twelve_hours_after_login():
    make_customer("person@example.com", password=PASSWORD)
    start = timezone.now()
    client = _logged_in(start)
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("portal:home")).status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        assert client.get(reverse("portal:home")).status_code == 302


def test_a_password_change_is_told_to_the_owner_by_email():
    customer, user = make_customer("person@example.com", password=PASSWORD)
    client = Client()
    client.post(reverse("account_login"), {"login": "person@example.com", "password": PASSWORD})
    mail.outbox.clear()
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "changed-pass-2027", "password2": "changed-pass-2027"},
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["person@example.com"] and "password" in message.subject.lower()
