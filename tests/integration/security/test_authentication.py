"""Authentication as an attacker sees it: sessions rotate at login, cookies are out of scripts' and
other sites' reach, reset links work once and briefly, answers do not tell whether an account
exists, and guessing is locked out or throttled (docs/security.md, V2 and V3)."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refill.customers.models import User
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts attempts in the cache; no test inherits or leaves counts behind.
    cache.clear()
    yield
    cache.clear()


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _anonymous_session(client: Client) -> str:
    session = client.session  # creates and stores a session, as a visit that put something in it would
    session["seen_landing"] = True
    session.save()
    return _session_key(client)


def _totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


# --- sessions and cookies -------------------------------------------------------------------------


def test_the_session_key_changes_at_login_and_the_old_one_is_gone(client):
    make_customer("rotate@example.com", password=PASSWORD)
    before = _anonymous_session(client)
    response = client.post(reverse("account_login"), {"login": "rotate@example.com", "password": PASSWORD})
    assert response.status_code == 302
    after = _session_key(client)
    assert after != before
    assert not SessionStore().exists(before)  # a fixated key is worth nothing
    assert client.get(reverse("portal:home")).status_code == 200


def test_the_session_key_changes_again_when_the_second_factor_completes_the_login(client):
    _customer, user = make_customer("twofactor@example.com", password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    before = _anonymous_session(client)
    password_step = client.post(reverse("account_login"), {"login": "twofactor@example.com", "password": PASSWORD})
    assert password_step["Location"] == reverse("mfa_authenticate")
    halfway = _session_key(client)
    assert client.get(reverse("portal:home")).status_code == 302  # the password alone does not log in
    client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret)})
    after = _session_key(client)
    assert client.get(reverse("portal:home")).status_code == 200
    # The key a half-done login carried (the same as before it: nobody is logged in yet) is
    # replaced when the login completes.
    assert after not in {before, halfway}
    assert not SessionStore().exists(halfway)


def test_session_and_csrf_cookies_are_httponly_and_same_site(client):
    make_customer("cookies@example.com", password=PASSWORD)
    client.get(reverse("account_login"))
    response = client.post(reverse("account_login"), {"login": "cookies@example.com", "password": PASSWORD})
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"] is True and session_cookie["samesite"] == "Lax"
    csrf_cookie = client.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf_cookie["httponly"] is True and csrf_cookie["samesite"] == "Lax"


def test_cookies_are_secure_with_the_production_cookie_settings(client, settings):
    # production.py sets these (test_production_settings proves it); here: Django honours them.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    make_customer("secure@example.com", password=PASSWORD)
    client.get(reverse("account_login"))
    response = client.post(reverse("account_login"), {"login": "secure@example.com", "password": PASSWORD})
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True
    assert client.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True


# --- password reset -------------------------------------------------------------------------------


def _reset_link(email: str) -> str:
    Client().post(reverse("account_reset_password"), {"email": email})
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", body).group(1)


def _use_reset_link(link: str, password: str):
    """Follows the link as a browser would; the answer to setting the new password, or the page
    that said the link is bad."""
    client = Client()
    page = client.get(link, follow=True)
    if page.context and page.context.get("token_fail"):
        return page
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    return client.post(form_url, {"password1": password, "password2": password})


def test_a_password_reset_link_works_once(client):
    _customer, user = make_customer("once@example.com", password=PASSWORD)
    link = _reset_link("once@example.com")
    assert _use_reset_link(link, "brand-new-pass-77").status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-77")

    again = _use_reset_link(link, "attacker-pass-99")
    assert again.context["token_fail"] is True
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-77")


def test_a_password_reset_link_expires_after_an_hour():
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    _customer, user = make_customer("late@example.com", password=PASSWORD)
    link = _reset_link("late@example.com")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)):
        answer = _use_reset_link(link, "brand-new-pass-77")
    assert answer.context["token_fail"] is True
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_reset_link_within_the_hour_still_works():
    make_customer("intime@example.com", password=PASSWORD)
    link = _reset_link("intime@example.com")
    with time_machine.travel(timezone.now() + timedelta(minutes=50)):
        assert _use_reset_link(link, "brand-new-pass-77").status_code == 302


# --- no enumeration -------------------------------------------------------------------------------


def _normalised(response, *emails: str) -> str:
    text = response.content.decode()
    for email in emails:
        text = text.replace(email, "EMAIL")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", text)
    return re.sub(r'nonce="[^"]+"', "NONCE", text)


def test_login_answers_the_same_for_an_unknown_account_and_a_wrong_password():
    make_customer("known@example.com", password=PASSWORD)
    known = Client().post(reverse("account_login"), {"login": "known@example.com", "password": "wrong-pass-1"})
    unknown = Client().post(reverse("account_login"), {"login": "nobody@example.com", "password": "wrong-pass-1"})
    assert known.status_code == unknown.status_code == 200
    assert _normalised(known, "known@example.com") == _normalised(unknown, "nobody@example.com")


def test_a_reset_request_answers_the_same_for_an_unknown_and_a_known_email():
    make_customer("known@example.com", password=PASSWORD)
    known = Client().post(reverse("account_reset_password"), {"email": "known@example.com"}, follow=True)
    unknown = Client().post(reverse("account_reset_password"), {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert _normalised(known, "known@example.com") == _normalised(unknown, "nobody@example.com")
    # Only the owner of the address learns whether it has an account here: each gets a mail.
    assert sorted(m.to[0] for m in mail.outbox) == ["known@example.com", "nobody@example.com"]


def test_a_login_code_request_answers_the_same_for_an_unknown_and_a_known_email():
    make_customer("known@example.com", password=PASSWORD)
    known = Client().post(reverse("account_request_login_code"), {"email": "known@example.com"})
    unknown = Client().post(reverse("account_request_login_code"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_signup_with_an_existing_email_answers_like_a_new_one():
    """Signup answers every address with "check your email"; only the owner of a taken address
    learns, by email, that it already has an account (and no second account is made)."""
    make_customer("taken@example.com", password=PASSWORD)
    form = {"phone": "", "password1": "another-pass-88", "password2": "another-pass-88"}
    taken = Client().post(reverse("account_signup"), {**form, "email": "taken@example.com"}, follow=True)
    fresh = Client().post(reverse("account_signup"), {**form, "email": "fresh@example.com"}, follow=True)
    assert taken.redirect_chain == fresh.redirect_chain
    assert _normalised(taken, "taken@example.com") == _normalised(fresh, "fresh@example.com")
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    to = {m.to[0]: m for m in mail.outbox}
    assert set(to) == {"taken@example.com", "fresh@example.com"}
    assert "/accounts/confirm-email/" not in to["taken@example.com"].body  # "you already have an account"
    assert "/accounts/confirm-email/" in to["fresh@example.com"].body


def test_the_app_api_does_not_register_so_cannot_tell_a_taken_address():
    make_customer("taken@example.com", password=PASSWORD)
    answers = [
        Client().post(
            "/_allauth/app/v1/auth/signup",
            {"email": email, "password": "another-pass-88"},
            content_type="application/json",
        )
        for email in ("taken@example.com", "fresh@example.com")
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json() == answers[1].json() and answers[0].json()["errors"][0]["code"] == "signup_on_web"
    assert not User.objects.filter(email="fresh@example.com").exists()


def test_signup_with_an_existing_mobile_number_answers_like_a_new_one(_sms_outbox):
    customer, user = make_customer("owner@example.com", password=PASSWORD)
    user.phone, user.phone_verified = "+12025550150", True
    user.save()
    form = {"email": "", "password1": "another-pass-88", "password2": "another-pass-88"}
    taken = Client().post(reverse("account_signup"), {**form, "phone": "+1 202 555 0150"})
    fresh = Client().post(reverse("account_signup"), {**form, "phone": "+1 202 555 0151"})
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert User.objects.filter(phone="+12025550150").count() == 1
    assert sorted(m["to"] for m in _sms_outbox) == ["+12025550150", "+12025550151"]


# --- guessing -------------------------------------------------------------------------------------


TOO_MANY = "Too many failed login attempts"


def _fail_login(login: str, ip: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(reverse("account_login"), {"login": login, "password": "wrong-pass-1"})


def _log_in(ip: str, login: str) -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    return client


def test_five_failures_lock_one_account_from_one_address_for_half_an_hour():
    make_customer("target@example.com", password=PASSWORD)
    answers = [_fail_login("target@example.com", ip="203.0.113.7").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # django-axes: account + address locked
    attacker = _log_in("203.0.113.7", "target@example.com")
    assert attacker.get(reverse("portal:home")).status_code == 302  # right password, still refused
    # allauth also holds the account back from everywhere for five minutes (5 failures per login)…
    owner = _log_in("198.51.100.9", "target@example.com")
    assert owner.get(reverse("portal:home")).status_code == 302
    # …after which its owner elsewhere gets in, while the guessing address stays locked (30 minutes).
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert _log_in("198.51.100.9", "target@example.com").get(reverse("portal:home")).status_code == 200
        assert _log_in("203.0.113.7", "target@example.com").get(reverse("portal:home")).status_code == 302
    # (Each refused try while locked counts as a failure too: the half hour runs from the last one.)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        assert _log_in("203.0.113.7", "target@example.com").get(reverse("portal:home")).status_code == 200


def test_a_held_back_account_is_still_reached_by_its_owner_with_a_login_code():
    """Someone who knows an address can hold its password login back for five minutes at a time;
    the owner still gets in with a code sent to that address."""
    make_customer("held@example.com", password=PASSWORD)
    for _ in range(5):
        _fail_login("held@example.com", ip="203.0.113.12")
    owner = Client(REMOTE_ADDR="198.51.100.12")
    confirm = owner.post(reverse("account_request_login_code"), {"email": "held@example.com"})["Location"]
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.MULTILINE).group(1)
    owner.post(confirm, {"code": code})
    assert owner.get(reverse("portal:home")).status_code == 200


def test_one_address_trying_many_accounts_is_throttled():
    # Credential stuffing: a new account each try never reaches the per-account lockout, so
    # allauth's per-address limit on failed logins (10 a minute) stops it instead.
    answers = [_fail_login(f"user{n}@example.com", ip="203.0.113.8") for n in range(11)]
    assert [TOO_MANY in a.content.decode() for a in answers] == [False] * 10 + [True]
    # Another address is unaffected.
    assert TOO_MANY not in _fail_login("user0@example.com", ip="198.51.100.10").content.decode()


def test_login_codes_for_one_account_are_rate_limited():
    make_customer("codes@example.com", password=PASSWORD)
    answers = [Client().post(reverse("account_request_login_code"), {"email": "codes@example.com"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [302, 302, 302, 200]  # allauth: 3 a minute per account
    assert TOO_MANY in answers[-1].content.decode()
    assert len([m for m in mail.outbox if m.to == ["codes@example.com"]]) == 3


def test_a_login_code_allows_only_a_few_wrong_guesses():
    make_customer("guess@example.com", password=PASSWORD)
    client = Client()
    confirm = client.post(reverse("account_request_login_code"), {"email": "guess@example.com"})["Location"]
    real = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.MULTILINE).group(1)
    wrong = "AAAA-AAAA" if real != "AAAA-AAAA" else "BBBB-BBBB"
    for _ in range(3):
        client.post(confirm, {"code": wrong})
    client.post(confirm, {"code": real})  # too late: the code is spent after three wrong tries
    assert client.get(reverse("portal:home")).status_code == 302


def test_the_right_login_code_logs_in():
    # The control for the test above: the same steps without the wrong guesses succeed.
    make_customer("right@example.com", password=PASSWORD)
    client = Client()
    confirm = client.post(reverse("account_request_login_code"), {"email": "right@example.com"})["Location"]
    real = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.MULTILINE).group(1)
    client.post(confirm, {"code": real})
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_login_code_request_by_phone_answers_the_same_for_an_unknown_and_a_known_number(_sms_outbox):
    from refill.customers.models import Customer, User

    User.objects.create_user(
        None, PASSWORD, phone="+12025550188", phone_verified=True, customer=Customer.objects.create()
    )
    known = Client().post(reverse("account_request_login_code"), {"phone": "+1 202 555 0188"})
    unknown = Client().post(reverse("account_request_login_code"), {"phone": "+1 202 555 0199"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


APP_LOGIN = "/_allauth/app/v1/auth/login"


def test_the_app_login_answers_the_same_for_an_unknown_account_and_a_wrong_password():
    make_customer("known@example.com", password=PASSWORD)
    known = Client().post(
        APP_LOGIN, {"email": "known@example.com", "password": "wrong-pass-1"}, content_type="application/json"
    )
    unknown = Client().post(
        APP_LOGIN, {"email": "nobody@example.com", "password": "wrong-pass-1"}, content_type="application/json"
    )
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()


def test_the_app_login_is_locked_out_like_the_web_login():
    make_customer("applock@example.com", password=PASSWORD)
    for _ in range(5):
        Client().post(
            APP_LOGIN, {"email": "applock@example.com", "password": "wrong-pass-1"}, content_type="application/json"
        )
    right = Client().post(
        APP_LOGIN, {"email": "applock@example.com", "password": PASSWORD}, content_type="application/json"
    )
    assert right.status_code != 200 and "session_token" not in right.content.decode()
