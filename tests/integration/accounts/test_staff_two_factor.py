"""Two-factor login: staff and shop agents reach the back office, the admin and the agent desk only
after a TOTP code in this session (set up first if they have none); customers may turn it on."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

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
    # Setting a second factor up asks for the password again first (allauth), then shows the QR code.
    assert client.get(answer["Location"])["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    setup = client.get(answer["Location"])
    assert setup.status_code == 200 and b"data:image/svg+xml;base64," in setup.content  # drawn by segno
    secret = client.session["mfa.totp.secret"]
    client.post(answer["Location"], {"code": code(secret)})
    assert client.get(area).status_code == 200  # the code that set it up counts for this session


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
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.get("/backoffice/").status_code == 302  # not staff: the admin login, as before


def test_the_admin_login_page_is_refills(client):
    """Staff log in on Refill's page, which asks for their code in the same flow: the admin's own
    password-only form, and the extra code page it led to, are never shown."""
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302 and answer["Location"] == reverse("account_login") + "?next=/admin/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")  # Django's admin, logged out
