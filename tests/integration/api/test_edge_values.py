"""Every field of every operation, given each value at the edge of its type (numbers too big, too
small or too fine for any column, integers past 64 bits, lone surrogates, impossible dates, very
long text), by each kind of caller on its own: a partner's bearer key, the app's X-Session-Token,
a browser session sending its CSRF token. No answer is a server error, and every refusal is a
problem (issue 24, item 3). A walk, not a random search: the same requests every run."""

import itertools
import json
import re

import pytest

from refill.api.v1 import api
from refill.apikeys.services import apikey_create
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client, app_token

pytestmark = pytest.mark.django_db
SCHEMA = api.get_openapi_schema(path_prefix="/api/v1/")
MSISDN = "+12025550143"
SENTINEL = "__edge__"
# Raw JSON tokens: 1e400 and a lone surrogate cannot be written by json.dumps, but a client can send them.
NUMBERS = [
    "1e400", "-1e400", "1e-400", "1e30", "-1e30", "0.00001", "-0", "0", "-1",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999",
    "1" + "0" * 400, "123456789012.3456", "0.1234567",
]  # fmt: skip
STRINGS = [
    '"1e400"', '"NaN"', '"Infinity"', '"-Infinity"', '"sNaN"', '"1e-400"', '"0E-1000000"',
    '"\\ud800"', '"+1202\\udfff5550143"', '"\\udc00\\ud800"', '"\\ud83d\\ude00"', '""', '" "',
    json.dumps("9" * 5000), json.dumps("x" * 100_000), '"2027-02-30"', '"2027-01-01T25:00:00"',
    '"9999-12-31T23:59:59-12:00"', '"0001-01-01T00:00:00+14:00"', '"10000-01-01T00:00:00Z"',
    '"2026-12-07T12:00:00+99:00"', '"\\u202e\\u0661\\u0662"', '"\\uffff"',
]  # fmt: skip
OTHERS = ["null", "true", "[]", "{}", '[{"a": "\\ud800"}]']
IN_URL = [
    "99999999999999999999", "9223372036854775808", "-1", "0", "1e400", "NaN", "%ED%A0%80", "%F0%9F%98%80",
    "x" * 3000, "%C0%AF", "%FF",
]  # fmt: skip
KNOWN = {
    "msisdn": MSISDN, "plan": "us-30day", "number": "4242424242424242", "exp_month": 12, "exp_year": 2039,
    "cvc": "123", "kind": "data", "record_id": "edge-1", "pay_with": "card", "pin": "1234567890123456",
}  # fmt: skip


def resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return resolve(SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in schema:
        return resolve(next(option for option in schema["anyOf"] if option.get("type") != "null"))
    return schema


def sample(schema: dict, name: str = ""):
    """A plausible value of ``schema``: the edge values are tried one field at a time around it."""
    schema = resolve(schema)
    if name in KNOWN:
        return KNOWN[name]
    kind = schema.get("type")
    if kind == "object":
        return {key: sample(value, key) for key, value in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema["items"])] if resolve(schema["items"]).get("type") == "object" else []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return "2026-12-07T12:00:00Z" if schema.get("format") == "date-time" else "x"


def fields(schema: dict, path=()):
    """Every place in a body a value goes: (path of keys and list indexes, its schema)."""
    schema = resolve(schema)
    if schema.get("type") == "object":
        for key, value in schema.get("properties", {}).items():
            yield (*path, key), value
            yield from fields(value, (*path, key))
    elif schema.get("type") == "array" and resolve(schema["items"]).get("type") == "object":
        yield from fields(schema["items"], (*path, 0))


def with_edge(body, path, token: str) -> bytes:
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = SENTINEL
    return json.dumps(body).replace(f'"{SENTINEL}"', token).encode()


def edges_for(schema: dict) -> list[str]:
    kind = resolve(schema).get("type")
    if kind in ("integer", "number"):
        return [*NUMBERS, *STRINGS[:7], *OTHERS]
    if kind == "string":
        return [*STRINGS, *NUMBERS[:4], *OTHERS]
    return OTHERS


def requests_of(path: str, method: str, operation: dict):
    """The edge requests of one operation: (url, body bytes or None)."""
    names = re.findall(r"\{(\w+)\}", path)
    plain = {"msisdn": MSISDN, "method_id": "1", "order_id": "1", "role": "default"}
    query = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
    base_query = {name: ("us-30day" if name == "plan" else "1") for name, p in query.items() if p.get("required")}

    def url(values=plain, params=base_query):
        filled = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        return filled + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")

    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    body = sample(content["schema"]) if content else None
    raw = json.dumps(body).encode() if content else None
    for name, value in itertools.product(names, IN_URL):
        yield url({**plain, name: value}), raw
    for name, value in itertools.product(query, IN_URL):
        yield url(params={**base_query, name: value}), raw
    if content:
        for where, schema in fields(content["schema"]):
            for token in edges_for(schema):
                yield url(), with_edge(body, where, token)


def operations_for(security_name: str):
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            schemes = {name for scheme in operation.get("security", []) for name in scheme}
            if security_name in schemes or not schemes:
                yield path, method.upper(), operation


@pytest.fixture
def callers(settings):
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "enabled": False}
    settings.ACCOUNT_RATE_LIMITS = False
    many = dict.fromkeys(("declines_per_ip_hour", "declines_per_number_hour", "orders_per_ip_day"), 10**6)
    settings.REFILL_GUEST_REFILLS = {**settings.REFILL_GUEST_REFILLS, **many, "paid_per_number_day": 10**6}
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("edge@example.com", password="edge-pass-2026")
    make_line(customer, market, plan, msisdn=MSISDN, status="active")
    _, key = apikey_create(name="Edge", scopes=["read", "renew", "vouchers", "usage:write", "esim"], actor=None)
    browser = Client(raise_request_exception=False)  # every fault is collected, not only the first
    login(browser, user)
    return {
        "ApiKeyAuth": Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {key}"),
        "AppTokenAuth": Client(
            raise_request_exception=False,
            HTTP_X_SESSION_TOKEN=app_token(Client(), "edge@example.com", "edge-pass-2026"),
        ),
        "SessionAuth": browser,
    }


@pytest.mark.parametrize("caller", ["ApiKeyAuth", "AppTokenAuth", "SessionAuth"])
def test_no_edge_value_is_a_server_error_for_any_caller(callers, caller):
    client, failures, count = callers[caller], [], 0
    for path, method, operation in operations_for(caller):
        for url, body in requests_of(path, method, operation):
            count += 1
            extra = {"HTTP_IDEMPOTENCY_KEY": f"edge-{count}"}
            if body is None:
                answer = client.generic(method, url, **extra)
            else:
                answer = client.generic(method, url, body, content_type="application/json", **extra)
            problem = answer.status_code < 400 or answer["Content-Type"] == "application/problem+json"
            if answer.status_code >= 500 or not problem:
                failures.append((method, url[:120], (body or b"")[:200], answer.status_code, answer.content[:200]))
    assert count > 1000  # the walk reached every operation's fields
    assert failures == [], f"{len(failures)} of {count}:\n" + "\n".join(map(str, failures[:40]))
