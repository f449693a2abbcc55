"""Every operation of /api/v1/ × every kind of caller, against one customer's objects: anonymous,
another customer, a partner key without the scope the operation needs, one with it, the owner's
browser session without its CSRF token, the owner's app (``X-Session-Token``) and the owner's
browser session with its token. Every caller is a real client: Django's CSRF checks are enforced
(tests/integration/api/clients.py), so a key or an app that is wrongly asked for a CSRF token, or a
session that is wrongly let through without one, fails here. Each gets exactly the answer in the
table, and the table must name every operation the OpenAPI
schema has, so a new endpoint cannot go untested. Nothing of the owner's is reachable by another
customer, and nothing of a customer's by a key that has no business with it."""

from dataclasses import dataclass

import pytest

from refill.api.v1 import api
from refill.apikeys.services import SCOPES, apikey_create
from refill.esim import services as esim
from refill.esim.inventory import inventory_import
from refill.integrations.payments.base import CardDetails
from refill.payments.gateways import gateway_for
from refill.payments.services import method_add
from tests.factories import esim_batch_iccid, login, make_customer, make_line, make_market, make_plan, renew
from tests.integration.api.clients import Client, app_token
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)
MSISDN = "+12025550175"
PASSWORD = "owner-pass-2026"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}
# Destructive calls by the owner come last (the app deletes a card of its own).
ROLES = ("anonymous", "other customer", "key without scope", "key with scope", "no CSRF token", "app", "owner")
# A browser session without its token may read, but may change nothing: refused before anything else.
NO_TOKEN = 403


@dataclass(frozen=True)
class Row:
    scope: str | None  # the scope a key needs; None: keys are not accepted at all
    answers: tuple[int, int, int, int, int, int, int]  # in ROLES order
    body: dict | None = None


ROWS: dict[tuple[str, str], Row] = {
    ("post", "/api/v1/vouchers/redeem"): Row(
        "vouchers", (401, 422, 403, 422, NO_TOKEN, 422, 422), {"pin": "1234123412341234", "gift_msisdn": MSISDN}
    ),
    ("get", "/api/v1/payment-methods"): Row(None, (401, 200, 401, 401, 200, 200, 200)),
    ("post", "/api/v1/payment-methods"): Row(None, (401, 201, 401, 401, NO_TOKEN, 201, 201), CARD),
    ("delete", "/api/v1/payment-methods/{method_id}"): Row(None, (401, 404, 401, 401, NO_TOKEN, 204, 204)),
    ("post", "/api/v1/payment-methods/{method_id}/{role}"): Row(None, (401, 404, 401, 401, NO_TOKEN, 200, 200)),
    ("post", "/api/v1/orders"): Row(
        "renew",
        (401, 404, 403, 201, NO_TOKEN, 201, 201),
        {"msisdn": MSISDN, "plan": "us-30day", "pay_with": "card", "card": CARD},
    ),
    ("get", "/api/v1/orders/{order_id}"): Row("read", (401, 404, 403, 404, 200, 200, 200)),
    ("get", "/api/v1/orders"): Row("read", (401, 200, 403, 200, 200, 200, 200)),
    ("get", "/api/v1/orders/{order_id}/receipt.pdf"): Row(None, (401, 404, 401, 401, 200, 200, 200)),
    # Anyone may give a refill to any number: it reveals nothing and takes nothing of the owner's.
    ("post", "/api/v1/refills"): Row(
        None, (201, 201, 201, 201, 201, 201, 201), {"msisdn": MSISDN, "amount": "10", "card": CARD}
    ),
    ("get", "/api/v1/lines/{msisdn}/auto-renew"): Row(None, (401, 404, 401, 401, 200, 200, 200)),
    ("patch", "/api/v1/lines/{msisdn}/auto-renew"): Row(
        None, (401, 404, 401, 401, NO_TOKEN, 200, 200), {"use_wallet": True}
    ),
    ("get", "/api/v1/plans"): Row("read", (401, 200, 403, 200, 200, 200, 200)),
    ("get", "/api/v1/lines"): Row(None, (401, 200, 401, 401, 200, 200, 200)),
    ("get", "/api/v1/lines/{msisdn}"): Row("read", (401, 404, 403, 200, 200, 200, 200)),
    ("get", "/api/v1/lines/{msisdn}/quote"): Row("renew", (401, 404, 403, 200, 200, 200, 200), {"plan": "us-30day"}),
    ("get", "/api/v1/lines/{msisdn}/esim"): Row("esim", (401, 404, 403, 200, 200, 200, 200)),
    ("get", "/api/v1/lines/{msisdn}/esim/qr.png"): Row("esim", (401, 404, 403, 200, 200, 200, 200)),
    ("post", "/api/v1/lines/{msisdn}/esim/reissue"): Row("esim", (401, 404, 403, 201, NO_TOKEN, 201, 201)),
    ("post", "/api/v1/usage-records"): Row(
        "usage:write",
        (401, 401, 403, 200, 401, 401, 401),
        {
            "records": [
                {"record_id": "m-1", "msisdn": MSISDN, "kind": "data", "amount": 1, "timestamp": "2026-11-23T00:00:00Z"}
            ]
        },
    ),
    ("get", "/api/v1/lines/{msisdn}/usage"): Row("read", (401, 404, 403, 200, 200, 200, 200)),
}


def test_the_table_names_every_operation():
    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    operations = {(method, path) for path, methods in schema["paths"].items() for method in methods}
    assert operations == set(ROWS)


@pytest.fixture
def world(live_server, settings):
    settings.REFILL_API_RATE_LIMITS = {**settings.REFILL_API_RATE_LIMITS, "enabled": False}
    # Each of the seven callers gives the number one refill: more than a day's guest limit.
    settings.REFILL_GUEST_REFILLS = {**settings.REFILL_GUEST_REFILLS, "paid_per_number_day": len(ROLES)}
    with simulator_for(live_server, settings, "--accept-unknown") as _simulator:
        inventory_import(
            file_name="s.csv",
            content=f"iccid,imsi,profile_type\n{esim_batch_iccid(8, 1)},234150000008001,consumer\n".encode(),
        )
        market = make_market()
        plan = make_plan(market, "us-30day")
        owner, owner_user = make_customer("owner@example.com", password=PASSWORD)
        line = make_line(owner, market, plan, msisdn=MSISDN, sim_type="esim")
        order, _ = renew(line, plan)
        esim.esim_for_new_line(line=line, profile_type="consumer")
        method, apps_method = (
            method_add(customer=owner, gateway=gateway_for(), card=CardDetails(number, 12, 2039, "123"))
            for number in ("5555555555554444", "4000056655665556")
        )
        stranger = make_customer("stranger@example.com")[1]
        ids = {"msisdn": MSISDN, "order_id": order.pk, "method_id": method.pk, "role": "backup"}
        yield {
            "users": {"owner": owner_user, "other customer": stranger, "no CSRF token": owner_user},
            "ids": ids,
            # The app deletes a card of its own, so that the owner's browser still has one to delete.
            "app ids": {**ids, "method_id": apps_method.pk},
            "app token": app_token(Client(), "owner@example.com", PASSWORD),
            "owner": owner,
        }


def _key(scopes) -> str:
    return apikey_create(name="Partner", scopes=sorted(scopes), actor=None)[1]


@pytest.mark.parametrize(("method", "path"), sorted(ROWS))
def test_every_caller_gets_exactly_its_answer(world, method, path):
    row = ROWS[method, path]
    for who, expected in zip(ROLES, row.answers, strict=True):
        url = path.format(**world["app ids" if who == "app" else "ids"])
        client, headers = Client(csrf_token=who != "no CSRF token"), {"HTTP_IDEMPOTENCY_KEY": f"matrix-{who}"}
        if who in world["users"]:
            login(client, world["users"][who])
        elif who == "app":
            headers["HTTP_X_SESSION_TOKEN"] = world["app token"]
        elif who == "key without scope":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {_key(set(SCOPES) - {row.scope})}"
        elif who == "key with scope":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {_key({row.scope} if row.scope else set(SCOPES))}"
        response = getattr(client, method)(url, row.body, content_type="application/json", **headers)
        assert response.status_code == expected, (who, response.content[:300])
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"
        if who == "no CSRF token" and expected == NO_TOKEN:
            assert response.json()["code"] == "csrf_failed"
        if who not in ("owner", "app", "no CSRF token") and response.status_code < 300:
            # Nobody else's answer carries the owner's things: their lists are empty.
            assert "owner@example.com" not in response.content.decode(errors="replace")
            if method == "get" and path in ("/api/v1/orders", "/api/v1/payment-methods", "/api/v1/lines"):
                assert response.json() in ([], {"items": [], "next_cursor": None}), (who, response.json())
