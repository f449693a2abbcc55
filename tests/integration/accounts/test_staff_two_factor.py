"""Two-factor login: staff and shop agents reach the back office, the admin and the agent desk only
after a TOTP code in this session (set up first if they have none); customers may turn it on."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from refill.customers.adapter import AccountAdapter
from refill.customers.models import User
from tests.factories import AUTH_BACKEND, make_customer

pytestmark = pytest.mark.django_db
PASSWORD = "staff-pass-2026-x"


def code(secret: str, step: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def staff(email="support1@example.com", role=User.Role.STAFF, **extra) -> User:
    user = User.objects.create_user(email, PASSWORD, role=role, is_staff=role == User.Role.STAFF, **extra)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.mark.django_db(transaction=True)  # allauth says "added" when the setup commits, as in production
@pytest.mark.parametrize("area", ["/backoffice/", "/admin/", "/agent/"])
def test_without_totp_staff_set_it_up_first_and_go_on(client, area):
    user = staff(role=User.Role.AGENT if area == "/agent/" else User.Role.STAFF, is_superuser=area != "/agent/")
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    answer = client.get(area)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("mfa_activate_totp") + f"?next={area.replace('/', '%2F')}"
    # They have just logged in with their password: the QR code comes next, with no "Confirm it is
    # you" page asking for the same password again.
    setup = client.get(answer["Location"])
    assert setup.status_code == 200 and b"data:image/svg+xml;base64," in setup.content  # drawn by segno
    secret = client.session["mfa.totp.secret"]
    done = client.post(answer["Location"], {"code": code(secret)})
    # The recovery codes just made are shown (no password asked for them either), then work.
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    codes = client.get(done["Location"])
    assert codes.status_code == 200 and b'data-testid="recovery-codes"' in codes.content
    assert f'href="{area}"'.encode() in codes.content  # "Continue" goes where they were going
    assert client.get(area).status_code == 200  # the code that set it up counts for this session


@pytest.mark.django_db(transaction=True)
def test_a_login_counts_as_confirmation_only_for_setting_up_and_only_while_fresh(client):
    """The fresh login stands for "Confirm it is you" only for setting the first authenticator up,
    within ACCOUNT_REAUTHENTICATION_TIMEOUT; later changes to how one logs in still ask again."""
    start = datetime(2026, 12, 7, 3, 0, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        user = staff("late-setup@example.com", is_superuser=True)
        client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    late = start + timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1)
    with time_machine.travel(late, tick=False):
        assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))


def test_a_fresh_login_does_not_skip_confirmation_for_turning_the_second_factor_off(client):
    customer, user = make_customer("turn-off@example.com", password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": code(secret)})
    assert client.get(reverse("portal:home")).status_code == 200
    answer = client.get(reverse("mfa_deactivate_totp"))
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(reverse("mfa_generate_recovery_codes"))["Location"].startswith(
        reverse("account_reauthenticate")
    )


def test_a_login_by_code_does_not_stand_for_the_password(client, monkeypatch):
    """Only a password login counts: a code emailed to the address is not the password allauth
    would ask for."""
    monkeypatch.setattr(AccountAdapter, "generate_login_code", lambda self: "KQ7M-2XPD")
    user = staff("by-code@example.com", is_superuser=True)
    client.post(reverse("account_request_login_code"), {"email": user.email})
    client.post(reverse("account_confirm_login_code"), {"code": "KQ7M-2XPD"})
    assert client.get("/backoffice/")["Location"].startswith(reverse("mfa_activate_totp"))
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))


def test_a_password_only_session_must_enter_a_code(client):
    user = staff()
    user.groups.add(Group.objects.get(name="support"))
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client.force_login(user, backend=AUTH_BACKEND)  # as the admin's own login form leaves it
    answer = client.get("/backoffice/")
    assert answer["Location"].startswith(reverse("mfa_reauthenticate"))
    wrong = client.post(answer["Location"], {"code": "000000"})
    assert wrong.status_code == 200 and client.get("/backoffice/").status_code == 302
    right = client.post(answer["Location"], {"code": code(secret)})
    assert right.status_code == 302 and right["Location"] == "/backoffice/"
    assert client.get("/backoffice/").status_code == 200


def test_the_login_form_asks_staff_for_their_code():
    user = staff("finance1@example.com")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = Client()
    answer = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == reverse("mfa_authenticate")
    assert client.get("/backoffice/").status_code == 302  # not signed in yet
    signed_in = client.post(reverse("mfa_authenticate"), {"code": code(secret)})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/backoffice/"  # staff land there
    assert client.get("/backoffice/").status_code == 200  # the code counts: no second prompt


def test_customers_need_no_code_but_may_turn_it_on(client):
    customer, user = make_customer("two-factor@example.com", password=PASSWORD)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200
    # A customer's second factor is a choice: turning it on confirms the password, even just after
    # logging in (a stolen fresh session must not lock the customer out with its own authenticator).
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.get("/backoffice/").status_code == 302  # not staff: the admin login, as before


def test_the_admin_login_page_is_refills(client):
    """Staff log in on Refill's page, which asks for their code in the same flow: the admin's own
    password-only form, and the extra code page it led to, are never shown."""
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302 and answer["Location"] == reverse("account_login") + "?next=/admin/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")  # Django's admin, logged out
