"""Every error answer under /api/ is an RFC 9457 problem (``application/problem+json`` with type,
title, status, code and detail), whoever makes it: ninja, a middleware, Django's own 404, 405 and
500 (issue 24, item 6). Each operation of the schema is called with a bad request of every kind."""

import json
import re

import pytest
from django.test import override_settings

from refill.api.v1 import api
from refill.apikeys.services import apikey_create
from refill.fleets.models import FleetMember
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
SCHEMA = api.get_openapi_schema(path_prefix="/api/v1/")
OPERATIONS = [
    (path, method.upper(), operation)
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
]
WITH_BODY = [(path, method) for path, method, operation in OPERATIONS if method in ("POST", "PATCH", "PUT", "DELETE")]
MSISDN = "+12025550143"
PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}


def url(path: str, msisdn: str = MSISDN) -> str:
    values = {"msisdn": msisdn, "method_id": "1", "role": "default", "order_id": "1"}
    filled = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    return filled + "?plan=us-30day" if filled.endswith("/quote") else filled


def is_problem(answer, status: int, code: str | None = None) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.content[:300])
    assert answer["Content-Type"] == "application/problem+json", answer["Content-Type"]
    body = json.loads(answer.content)
    assert body["status"] == status and body["code"] and body["title"] and body["detail"]
    assert body["type"] == f"https://refill.example/problems/{body['code']}"
    assert "Traceback" not in answer.content.decode() and "<html" not in answer.content.decode().lower()
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def world(settings):
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "enabled": False}
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("contract@example.com")
    make_line(customer, market, plan, msisdn=MSISDN)
    browser = Client()
    login(browser, user)
    _, key = apikey_create(name="Contract", scopes=["read", "renew", "vouchers", "usage:write", "esim"], actor=None)
    return browser, Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def call(client, method: str, path: str, body=b"", content_type="application/json", **extra):
    return client.generic(method, path, body, content_type=content_type, HTTP_IDEMPOTENCY_KEY="contract", **extra)


@pytest.mark.parametrize("path, method", [(p, m) for p, m, _ in OPERATIONS])
def test_not_signed_in_unknown_and_wrong_method_are_problems(world, path, method):
    operation = SCHEMA["paths"][path][method.lower()]
    if operation.get("security"):
        answer = call(Client(), method, url(path), b"{}" if (path, method) in WITH_BODY else b"")
        if answer.status_code != 422:  # an operation anyone may call (a guest's gift) answers its schema
            is_problem(answer, 401, "not_authenticated")
    taken = {m.upper() for m in SCHEMA["paths"][path]}
    wrong = next(m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in taken)
    refused = is_problem(call(world[0], wrong, url(path)), 405, "method_not_allowed")
    assert refused["detail"]
    if "{msisdn}" in path:
        is_problem(
            call(world[0], method, url(path, "+12025559999"), b"{}" if (path, method) in WITH_BODY else b""), 404
        )


def callers_of(world, operation) -> list:
    """The callers an operation is for: a browser session, a partner's key, or both."""
    browser, partner = world
    security = {name for scheme in operation.get("security", []) for name in scheme}
    return [client for client, name in ((browser, "SessionAuth"), (partner, "ApiKeyAuth")) if name in security] or [
        browser
    ]


@pytest.mark.parametrize("path, method", WITH_BODY)
def test_bodies_the_api_does_not_read_are_problems_for_every_caller(world, path, method):
    operation = SCHEMA["paths"][path][method.lower()]
    if "requestBody" in operation:  # the schema says so (schemathesis checks answers against it)
        documented = operation["responses"]
        assert all(documented[status]["content"] == {"application/problem+json": PROBLEM} for status in (413, 415))
    for client in world:
        is_problem(
            call(client, method, url(path), b'{"a": 1}', content_type="text/plain"), 415, "unsupported_media_type"
        )
        form = call(client, method, url(path), b"a=1", content_type="application/x-www-form-urlencoded")
        is_problem(form, 415, "unsupported_media_type")
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
            big = json.dumps({"records": [{"record_id": "x" * 60}] * 20}).encode()
            is_problem(call(client, method, url(path), big), 413, "payload_too_large")


def properties(operation) -> dict:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema["properties"]


@pytest.mark.parametrize("path, method", [(p, m) for p, m, o in OPERATIONS if o.get("requestBody")])
def test_a_body_that_is_not_json_or_of_the_wrong_shape_is_a_problem(world, path, method):
    operation = SCHEMA["paths"][path][method.lower()]
    for client in callers_of(world, operation):
        for bad in (b"{not json", b'{"msisdn": "\\ud800"}', b"[1, 2]", b"7", b'"text"'):
            is_problem(call(client, method, url(path), bad), 400, "bad_request")
        wrong = {name: {"not": "this"} for name in properties(operation)}
        body = is_problem(call(client, method, url(path), json.dumps(wrong).encode()), 422, "invalid_request")
        assert body["errors"] and all(set(error["location"]) & set(wrong) for error in body["errors"])


def test_a_body_too_large_for_django_is_a_413_problem_not_an_html_page(world):
    browser, partner = world
    big = json.dumps({"records": [{"record_id": "r", "msisdn": MSISDN}] * 60_000}).encode()
    assert len(big) > 2_621_440  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE
    is_problem(call(partner, "POST", "/api/v1/usage-records", big), 413, "payload_too_large")


def test_an_address_nothing_answers_is_a_problem(world):
    browser, _ = world
    is_problem(browser.get("/api/v1/no-such-thing"), 404, "not_found")
    is_problem(Client().get("/api/v2/lines"), 404, "not_found")
    is_problem(Client().get("/api/v1/lines?limit=%00"), 400, "bad_request")


def test_a_session_without_its_csrf_token_and_a_fleet_viewer_get_403_problems(world):
    customer, user = make_customer("viewer@example.com", language="zh-hans")
    FleetMember.objects.create(user=user, role=FleetMember.Role.VIEWER)
    viewer = Client()
    login(viewer, user)
    patch = {"enabled": True}
    refused = call(viewer, "PATCH", f"/api/v1/lines/{MSISDN}/auto-renew", json.dumps(patch).encode())
    assert not is_problem(refused, 403, "fleet_viewer_read_only")["detail"].isascii()  # the business's language
    no_token = Client(csrf_token=False)
    login(no_token, make_customer("forgetful@example.com")[1])
    is_problem(call(no_token, "PATCH", f"/api/v1/lines/{MSISDN}/auto-renew", b"{}"), 403, "csrf_failed")


def test_too_many_requests_is_a_429_problem(world, settings):
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "enabled": True, "ip": 0}
    answer = Client(REMOTE_ADDR="203.0.113.99").get("/api/v1/plans")
    assert is_problem(answer, 429, "rate_limited") and int(answer["Retry-After"]) > 0


def test_a_fault_is_a_generic_problem_with_the_request_id(world, monkeypatch):
    browser, _ = world

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/refill/db password=hunter2")

    monkeypatch.setattr("refill.orders.api._orders_of", broken)
    client = Client(raise_request_exception=False)
    login(client, make_customer("faulty@example.com")[1])
    answer = client.get("/api/v1/orders", HTTP_X_REQUEST_ID="req-contract-1")
    body = is_problem(answer, 500, "server_error")
    assert body["request_id"] == answer["X-Request-ID"]
    assert "secret" not in answer.content.decode() and "RuntimeError" not in answer.content.decode()
    # A fault outside the API's views (a middleware): the same generic problem, not Django's page.
    monkeypatch.setattr("refill.api.ratelimit.RateLimitMiddleware.__call__", broken)
    answer = client.get("/api/v1/lines")
    body = is_problem(answer, 500, "server_error")
    assert body["request_id"] == answer["X-Request-ID"] and "secret" not in answer.content.decode()
