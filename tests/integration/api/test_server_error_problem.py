"""An unexpected exception in an API view (docs/security.md 7.4.1) answers, over real HTTP, a generic
``application/problem+json`` 500: no traceback, no exception text, nothing of the cause, and the
request's id (the ``X-Request-ID`` header the caller sent, or one made up) in the body and the
header, which is what a caller quotes to support. The fault itself is logged for the operator, with
its traceback and the same request id, so that the quoted id finds it."""

import json
import logging
import urllib.error
import urllib.request

import pytest

from refill.apikeys.services import apikey_create
from tests.factories import make_market, make_plan

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "secret internals: /srv/refill/db password=hunter2"


def broken(*args, **kwargs):
    raise RuntimeError(SECRET)


def fetch(url: str, *, body: dict | None = None, headers: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def assert_generic_problem(status: int, headers: dict, text: str) -> dict:
    assert status == 500, (status, text[:300])
    assert headers["Content-Type"] == "application/problem+json"
    body = json.loads(text)
    assert (body["status"], body["code"], body["type"]) == (
        500,
        "server_error",
        "https://refill.example/problems/server_error",
    )
    assert body["title"] and body["detail"]
    for leak in ("Traceback", "RuntimeError", "hunter2", "/srv/refill", 'File "', "<html"):
        assert leak not in text, leak
    assert body["request_id"] and body["request_id"] == headers["X-Request-ID"]
    return body


@pytest.fixture
def partner_key():
    make_plan(make_market(), "us-30day", price="25.00")
    _, key = apikey_create(name="Server error", scopes=["read", "renew"], actor=None)
    return key


def test_a_fault_in_a_partners_read_is_a_generic_problem_with_the_request_id(live_server, partner_key, monkeypatch):
    monkeypatch.setattr("refill.catalog.api.page", broken)
    status, headers, text = fetch(
        f"{live_server.url}/api/v1/plans",
        headers={"Authorization": f"Bearer {partner_key}", "X-Request-ID": "req-partner-500"},
    )
    assert assert_generic_problem(status, headers, text)["request_id"] == "req-partner-500"


def test_a_fault_in_a_write_is_a_generic_problem_with_a_request_id_made_up(live_server, monkeypatch):
    monkeypatch.setattr("refill.renewals.api.GiftRequest", broken)
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    status, headers, text = fetch(
        f"{live_server.url}/api/v1/refills",
        body={"msisdn": "+12025550143", "plan": "us-30day", "card": card},
        headers={"Idempotency-Key": "server-error-1"},
    )
    body = assert_generic_problem(status, headers, text)
    assert len(body["request_id"]) >= 16  # none was sent: the server made one up


def test_the_fault_is_logged_with_its_traceback_under_the_request_id(live_server, partner_key, monkeypatch, caplog):
    monkeypatch.setattr("refill.catalog.api.page", broken)
    with caplog.at_level(logging.ERROR):
        status, headers, _ = fetch(
            f"{live_server.url}/api/v1/plans",
            headers={"Authorization": f"Bearer {partner_key}", "X-Request-ID": "req-find-me"},
        )
    assert status == 500
    # The redacting filter renders the traceback, masked, into exc_text (and drops exc_info).
    faults = [record for record in caplog.records if "RuntimeError" in (record.exc_text or "")]
    assert faults, [record.getMessage() for record in caplog.records]
    # What the operator reads in the log: the formatted line, with the id the caller was given.
    handler = logging.getLogger().handlers[0]
    assert any("req-find-me" in handler.format(record) for record in faults), [
        handler.format(record).splitlines()[0] for record in faults
    ]
