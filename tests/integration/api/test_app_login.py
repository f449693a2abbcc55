"""The mobile app logs in through allauth's headless API and calls /api/v1/ with its session token."""

import pytest

from tests.factories import make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
LOGIN = "/_allauth/app/v1/auth/login"


@pytest.fixture
def app_user():
    market = make_market()
    customer, user = make_customer("app@example.com", password="app-pass-2026")
    make_line(customer, market, make_plan(market), msisdn="+12025550161")
    return user


def test_log_in_call_the_api_log_out(app_user):
    app = Client()  # CSRF enforced: an app sends no CSRF token and needs none
    answer = app.post(LOGIN, {"email": "app@example.com", "password": "app-pass-2026"}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    token = answer.json()["meta"]["session_token"]
    headers = {"HTTP_X_SESSION_TOKEN": token}
    lines = app.get("/api/v1/lines", **headers)
    assert lines.status_code == 200 and [line["msisdn"] for line in lines.json()["items"]] == ["+12025550161"]
    redeem = app.post(
        "/api/v1/vouchers/redeem", {"pin": "1234123412341234"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="app-1", **headers,
    )  # fmt: skip
    assert redeem.status_code == 422 and redeem.json()["code"] == "voucher_unknown"  # reached, no CSRF needed
    assert app.delete("/_allauth/app/v1/auth/session", **headers).status_code == 401  # logged out
    assert app.get("/api/v1/lines", **headers).status_code == 401


def test_wrong_password_and_unknown_token(app_user):
    app = Client()
    wrong = app.post(LOGIN, {"email": "app@example.com", "password": "nope"}, content_type="application/json")
    assert wrong.status_code == 400
    assert app.get("/api/v1/lines", HTTP_X_SESSION_TOKEN="not-a-token").status_code == 401


@pytest.mark.parametrize("role", ["staff", "agent"])
def test_staff_and_agents_get_nothing_from_an_app_session(app_user, role):
    """The app is the customers': a staff member or shop agent who logs in through it (where no
    second factor is asked while they have none set up) reaches no API operation."""
    from allauth.account.models import EmailAddress

    from refill.customers.models import User

    worker = User.objects.create_user(f"{role}-app@example.com", "work-pass-2026", role=role, is_staff=role == "staff")
    EmailAddress.objects.create(user=worker, email=worker.email, verified=True, primary=True)
    app = Client()
    answer = app.post(LOGIN, {"email": worker.email, "password": "work-pass-2026"}, content_type="application/json")
    token = answer.json()["meta"]["session_token"]
    assert app.get("/api/v1/lines", HTTP_X_SESSION_TOKEN=token).status_code == 401
