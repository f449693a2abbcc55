import re

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from refill.customers.models import Customer, User
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"


def test_register_with_email_creates_customer_in_chosen_language(client):
    client.post(reverse("portal:set_language"), {"language": "zh-hans", "next": "/"})
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "phone": "", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.com")
    assert user.customer.preferred_language == "zh-hans"
    assert client.get(reverse("portal:home")).status_code == 302  # not in before the address is proved
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    client.post(link)
    assert client.get(reverse("portal:home")).status_code == 200  # confirming logs them in


def test_an_unverified_address_is_sent_a_new_link_at_login(client):
    from allauth.account.models import EmailAddress

    make_customer("late@example.com", password=PASSWORD)
    EmailAddress.objects.filter(email="late@example.com").update(verified=False)
    response = client.post(reverse("account_login"), {"login": "late@example.com", "password": PASSWORD})
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("portal:home")).status_code == 302
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


def test_a_password_set_through_the_reset_link_proves_the_address(client):
    from allauth.account.models import EmailAddress

    make_customer("invited@example.com", password=PASSWORD)
    EmailAddress.objects.filter(email="invited@example.com").update(verified=False)
    client.post(reverse("account_reset_password"), {"email": "invited@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"password1": "brand-new-pass-77", "password2": "brand-new-pass-77"})
    assert EmailAddress.objects.get(email="invited@example.com").verified
    response = client.post(reverse("account_login"), {"login": "invited@example.com", "password": "brand-new-pass-77"})
    assert response["Location"] == reverse("portal:home")


def test_register_with_mobile_number_and_sms_code(client, _sms_outbox):
    response = client.post(
        reverse("account_signup"),
        {"email": "", "phone": "(202) 555-0177", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(phone="+12025550177")
    assert user.email is None and not user.phone_verified
    assert len(_sms_outbox) == 1 and _sms_outbox[0]["to"] == "+12025550177"
    code = re.search(r"code is (\S+?)\.", _sms_outbox[0]["body"]).group(1)
    response = client.post(response.url, {"code": code})
    user.refresh_from_db()
    assert user.phone_verified
    client.post(reverse("account_logout"))
    response = client.post(reverse("account_login"), {"login": "+12025550177", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


def test_register_needs_email_or_phone(client):
    response = client.post(
        reverse("account_signup"), {"email": "", "phone": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200
    assert "Enter an email address or a mobile number." in response.content.decode()
    assert not Customer.objects.exists()


def test_register_refuses_a_bad_mobile_number(client):
    response = client.post(reverse("account_signup"), {"phone": "12345", "password1": PASSWORD, "password2": PASSWORD})
    assert "Enter a valid mobile number" in response.content.decode()
    assert not User.objects.exists()


def test_passwords_are_hashed_with_argon2id_outside_tests():
    """A password stored with the production hashers is an Argon2id hash that checks; tests
    themselves use a fast hasher."""
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password

    from refill.config.settings import base

    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        customer, user = make_customer("hashed@example.com", password=PASSWORD)
        user.refresh_from_db()
        assert user.password.startswith("argon2$argon2id$"), user.password
        assert identify_hasher(user.password).algorithm == "argon2"
        assert check_password(PASSWORD, user.password) and not check_password("wrong-" + PASSWORD, user.password)
        assert make_password("another-pass-99").startswith("argon2$argon2id$")


def test_lockout_after_repeated_failures(client):
    customer, user = make_customer("victim@example.com", password=PASSWORD)
    for _ in range(4):
        client.post(reverse("account_login"), {"login": "victim@example.com", "password": "wrong-password"})
    fifth = client.post(reverse("account_login"), {"login": "victim@example.com", "password": "wrong-password"})
    assert fifth.status_code == 429 and "locked for 30 minutes" in fifth.content.decode()
    # even the right password is refused now
    response = client.post(reverse("account_login"), {"login": "victim@example.com", "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode() or response.status_code == 429
    assert client.get(reverse("portal:home")).status_code == 302  # not logged in


def test_password_reset_by_emailed_link(client):
    customer, user = make_customer("forgetful@example.com", password=PASSWORD)
    client.post(reverse("account_reset_password"), {"email": "forgetful@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    client.post(form_url, {"password1": "brand-new-pass-77", "password2": "brand-new-pass-77"})
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-77")


@pytest.mark.parametrize("login_as", ["demo@example.com", "Demo@Example.COM"])
def test_demo_logins_are_refused_when_demo_is_off(client, login_as):
    """The demo customer, with a verified address and the demo's password, is let in while demo is
    on and refused (not logged in, never a 500) the moment it is off."""
    make_customer("demo@example.com", password="demo-pass-1234")
    credentials = {"login": login_as, "password": "demo-pass-1234"}
    with override_settings(REFILL_DEMO=True):
        response = client.post(reverse("account_login"), credentials)
        assert response.status_code == 302 and response["Location"] == reverse("portal:home")
        assert client.get(reverse("portal:home")).status_code == 200
        client.post(reverse("account_logout"))
    assert client.get(reverse("portal:home")).status_code == 302
    with override_settings(REFILL_DEMO=False):
        response = client.post(reverse("account_login"), credentials)
        assert response.status_code in (200, 403)
        assert client.get(reverse("portal:home")).status_code == 302  # not logged in
        assert "_auth_user_id" not in client.session


def test_login_and_logout(client):
    customer, user = make_customer("person@example.com", password=PASSWORD)
    response = client.post(reverse("account_login"), {"login": "person@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("portal:home")).status_code == 302


def test_phone_only_customer_logs_in_with_an_sms_code(client, _sms_outbox):
    user = User.objects.create_user(None, PASSWORD, phone="+12025550188", phone_verified=True)
    user.customer = Customer.objects.create()
    user.save()
    response = client.post(reverse("account_request_login_code"), {"phone": "+1 202 555 0188"})
    assert response.status_code == 302
    code = re.search(r"code is (\S+?)\.", _sms_outbox[-1]["body"]).group(1)
    client.post(response.url, {"code": code})
    assert client.get(reverse("portal:home")).status_code == 200


def test_production_settings_refuse_the_sandbox_and_a_missing_secret():
    import os
    import subprocess
    import sys

    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REFILL_PAYMENT_GATEWAY"}}
    command = [sys.executable, "-c", "import refill.config.settings.production"]
    no_secret = subprocess.run(command, env={**base_env, "DJANGO_SECRET_KEY": ""}, capture_output=True, text=True)
    assert no_secret.returncode != 0 and "DJANGO_SECRET_KEY" in no_secret.stderr
    sandbox = subprocess.run(
        command,
        env={**base_env, "DJANGO_SECRET_KEY": "x" * 50, "REFILL_PAYMENT_GATEWAY": "sandbox"},
        capture_output=True,
        text=True,
    )
    assert sandbox.returncode != 0 and "REFILL_PAYMENT_GATEWAY" in sandbox.stderr
