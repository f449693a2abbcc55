"""Every refusal of the API, ninja's own included, is an RFC 9457 problem with a stable code and a
detail in the caller's language."""

import json

import pytest

from tests.factories import login, make_customer
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db


def problem_of(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith(code) and body["title"]
    return body


def test_not_signed_in_is_a_problem_in_the_callers_language():
    english = problem_of(Client().get("/api/v1/lines"), 401, "not_authenticated")
    chinese = problem_of(Client().get("/api/v1/lines", HTTP_ACCEPT_LANGUAGE="zh-hans"), 401, "not_authenticated")
    assert english["detail"].isascii() and not chinese["detail"].isascii()
    assert Client().get("/api/v1/lines")["WWW-Authenticate"].startswith("Bearer")


def test_a_request_that_does_not_fit_the_schema_names_its_fields():
    customer, user = make_customer()
    client = Client()
    login(client, user)
    response = client.patch(
        "/api/v1/lines/+12025550100/auto-renew", {"cap_per_renewal": "lots"}, content_type="application/json"
    )
    body = problem_of(response, 422, "invalid_request")
    assert "cap_per_renewal" in body["detail"]
    assert body["errors"][0]["location"][-1] == "cap_per_renewal" and body["errors"][0]["message"]
    broken = client.patch("/api/v1/lines/+12025550100/auto-renew", "{not json", content_type="application/json")
    assert broken.status_code in (400, 422) and broken["Content-Type"] == "application/problem+json"
    assert problem_of(client.get("/api/v1/orders?limit=many"), 422, "invalid_request")["detail"].isascii()
    # Anonymous callers are answered in the language they ask for (customers in their own).
    chinese = Client().post(
        "/api/v1/refills", {"msisdn": 12}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip
    assert not problem_of(chinese, 422, "invalid_request")["detail"].isascii()


def test_nothing_here_is_a_problem_too():
    customer, user = make_customer()
    client = Client()
    login(client, user)
    problem_of(client.get("/api/v1/orders/999999"), 404, "not_found")


def test_nul_characters_are_refused_not_server_errors():
    customer, user = make_customer()
    client = Client()
    login(client, user)
    body = {
        "msisdn": "+1202\u00005550143",
        "plan": "x",
        "card": {"number": "4", "exp_month": 1, "exp_year": 1, "cvc": "1"},
    }
    refused = client.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul")
    problem_of(refused, 400, "bad_request")
    # The same in UTF-16 (json.loads reads it; the quick look for an escaped NUL would miss it).
    utf16 = json.dumps(body).encode("utf-16")
    problem_of(
        client.post("/api/v1/orders", utf16, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul16"),
        400,
        "bad_request",
    )
    problem_of(client.get("/api/v1/lines/+1202%005550143"), 400, "bad_request")
    problem_of(client.get("/api/v1/orders?cursor=%00"), 400, "bad_request")
