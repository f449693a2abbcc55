"""Idempotency-Key: the same request replays the first answer; another request with the key is
refused; a request still running blocks the key; keys are per caller; refusals are not kept."""

import hashlib
import json
import threading
import urllib.request
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refill.api.idempotency import idempotency_records_sweep
from refill.api.models import IdempotencyRecord
from refill.orders.models import Order
from refill.payments.models import Payment
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}
DECLINED = {**CARD, "number": "4000000000009995"}


@pytest.fixture
def world():
    market = make_market()
    make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("idem@example.com")
    line = make_line(customer, market, market.plans.get(), msisdn="+12025550143")
    client = Client()
    login(client, user)
    return client, customer, line


def post(client, body, key):
    return client.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def renewal(line, card=CARD, **extra):
    return {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "card", "card": card, **extra}


def test_same_key_same_request_replays_the_first_answer(world):
    client, customer, line = world
    first = post(client, renewal(line), "k-1")
    again = post(client, renewal(line), "k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


def test_same_key_other_request_is_refused(world):
    client, customer, line = world
    post(client, renewal(line), "k-2")
    other = post(client, renewal(line, periods=2), "k-2")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert other["Content-Type"] == "application/problem+json"
    assert Order.objects.count() == 1


def test_a_request_still_running_blocks_its_key(world):
    client, customer, line = world
    raw = json.dumps(renewal(line)).encode()
    IdempotencyRecord.objects.create(  # as the first request, still running, left it
        owner=f"user:{client.session['_auth_user_id']}",
        key="k-3",
        method="POST",
        path="/api/v1/orders",
        fingerprint=hashlib.sha256(b"\n".join([b"POST", b"/api/v1/orders", raw])).hexdigest(),
    )
    busy = client.post("/api/v1/orders", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_use" and busy["Retry-After"] == "1"
    assert not Order.objects.exists()
    # a request whose process died frees its key after a while
    IdempotencyRecord.objects.filter(key="k-3").update(created_at=timezone.now() - timedelta(minutes=6))
    assert (
        client.post("/api/v1/orders", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3").status_code
        == 201
    )


def test_refusals_are_not_kept(world):
    client, customer, line = world
    declined = post(client, renewal(line, card=DECLINED), "k-4")
    assert declined.status_code == 402
    wrong = post(client, renewal(line, plan="nope"), "k-4")
    assert wrong.status_code == 422 and wrong.json()["code"] == "plan_not_available"
    paid = post(client, renewal(line), "k-4")  # corrected and sent again with the same key
    assert paid.status_code == 201 and Order.objects.count() == 1


def test_keys_belong_to_their_caller(world):
    client, customer, line = world
    other_customer, other_user = make_customer("other@example.com")
    other_line = make_line(other_customer, line.market, line.plan, msisdn="+12025550144")
    other = Client()
    login(other, other_user)
    assert post(client, renewal(line), "shared").status_code == 201
    mine = post(other, renewal(other_line), "shared")
    assert mine.status_code == 201 and mine.json()["msisdn"] == "+12025550144"


def test_keys_are_required_where_money_moves_and_bounded(world):
    client, customer, line = world
    missing = client.post("/api/v1/orders", renewal(line), content_type="application/json")
    assert missing.status_code == 422 and missing.json()["code"] == "idempotency_key_required"
    too_long = post(client, renewal(line), "x" * 256)
    assert too_long.status_code == 422 and too_long.json()["code"] == "idempotency_key_invalid"
    assert not Order.objects.exists()


def test_old_answers_are_forgotten(world):
    client, customer, line = world
    post(client, renewal(line), "k-5")
    assert idempotency_records_sweep() == 0
    assert idempotency_records_sweep(now=timezone.now() + timedelta(hours=49)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_charge_once(live_server):
    """On PostgreSQL (and SQLite): two requests with the same key at the same moment; one order,
    one charge; the other caller gets the first answer or is told to wait."""
    market = make_market()
    make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("race@example.com", password="race-pass-2026")
    line = make_line(customer, market, market.plans.get(), msisdn="+12025550145")
    client = Client()
    login(client, user)
    csrf = "r" * 32  # the session is a cookie: the API asks for a CSRF token with it
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}"
    body = json.dumps(renewal(line)).encode()
    answers, start = [], threading.Barrier(2)

    def send():
        request = urllib.request.Request(
            live_server.url + "/api/v1/orders", data=body, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": "race-1", "Cookie": cookie,
                     "X-CSRFToken": csrf, "Referer": live_server.url + "/"},
        )  # fmt: skip
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answers.append((response.status, response.headers.get("Idempotent-Replayed")))
        except urllib.error.HTTPError as refused:
            answers.append((refused.code, json.loads(refused.read())["code"]))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) in ([201, 201], [201, 409])
    assert Order.objects.count() == 1 and Payment.objects.filter(status="succeeded").count() == 1, connection.vendor
