"""schemathesis against /api/v1/openapi.json, in process: requests made from the schema (valid and
not: its numeric and string edge cases, both generation modes) by each kind of caller on its own: a
partner's bearer key with every scope, the app's X-Session-Token, a browser session sending its
CSRF token. No answer may be a server error, and every answer must be one the schema documents, in
the shape and media type it says. Derandomized (the same examples every run, in CI too); more with
REFILL_FUZZ_EXAMPLES. tests/integration/api/test_edge_values.py walks the edges no generator picks
by chance (1e400, 2**63, lone surrogates) field by field."""

import json
import os

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from refill.api.v1 import api
from refill.apikeys.services import apikey_create
from refill.vouchers.services import voucher_batch_generate
from tests.factories import login as sign_in
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("REFILL_FUZZ_EXAMPLES", "15"))
# The schema /api/v1/openapi.json serves (read without a request: collection has no database).
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"))))
schema.app = get_wsgi_application()
schema.config.generation.update(modes=list(GenerationMode), deterministic=True)


@pytest.fixture(params=["partner", "app", "browser"])
def callers(request, settings):
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "enabled": False}
    settings.ACCOUNT_RATE_LIMITS = False  # a login per operation, from one address
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("fuzz@example.com", password="fuzz-pass-2026")
    make_line(customer, market, plan, msisdn="+12025550143", status="active")
    voucher_batch_generate(count=2, face_value="10.00", currency="USD")
    login = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": "fuzz@example.com", "password": "fuzz-pass-2026"},
        content_type="application/json",
    )
    _, key = apikey_create(name="Fuzz", scopes=["read", "renew", "vouchers", "usage:write", "esim"], actor=None)
    headers = {
        "partner": lambda: {"Authorization": f"Bearer {key}"},
        "app": lambda: {"X-Session-Token": login.json()["meta"]["session_token"]},
        "browser": lambda: browser_session(user),
    }[request.param]()
    # As Django's test client does: a request's end must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield headers
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def browser_session(user) -> dict:
    """A signed-in page's headers: its session cookie, and the CSRF token as cookie and header."""
    page = Client()
    sign_in(page, user)
    token = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    session = page.cookies[django_settings.SESSION_COOKIE_NAME].value
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={session}; {django_settings.CSRF_COOKIE_NAME}={token}"
    return {"Cookie": cookie, "X-CSRFToken": token}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.filterwarnings("ignore")
def test_the_api_keeps_its_schema(case, callers):
    for name, value in callers.items():
        case.headers = case.headers or {}
        case.headers[name] = value
    case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    )
