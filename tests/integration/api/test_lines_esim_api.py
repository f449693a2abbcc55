"""GET /lines, /lines/{msisdn}, and a line's eSIM over the API, for every kind of caller."""

import io

import pytest
import zxingcpp
from PIL import Image

from refill.apikeys.services import apikey_create
from refill.esim import services
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder
from tests.factories import esim_batch_iccid, login, make_customer, make_line, make_market, make_plan, renew
from tests.integration.api.clients import Client
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)
MSISDN = "+12025550171"


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        inventory_import(
            file_name="s.csv",
            content=f"iccid,imsi,profile_type\n{esim_batch_iccid(7, 1)},234150000007001,consumer\n".encode(),
        )
        yield simulator


@pytest.fixture
def callers(db):
    market = make_market()
    plan = make_plan(market, "us-30day")
    owner, owner_user = make_customer("owner@example.com")
    line = make_line(owner, market, plan, msisdn=MSISDN, sim_type="esim")
    renew(line, plan)
    stranger_user = make_customer("stranger@example.com")[1]
    staff = None
    _, no_scope = apikey_create(name="PINs", scopes=["vouchers"], actor=staff)
    _, reader = apikey_create(name="Reader", scopes=["read"], actor=staff)
    _, esim_key = apikey_create(name="Support tool", scopes=["esim"], actor=staff)

    def client_for(who):
        client = Client()
        if who == "owner":
            login(client, owner_user)
        elif who == "other customer":
            login(client, stranger_user)
        return client

    headers = {"no scope": no_scope, "read": reader, "esim": esim_key}
    return line, client_for, headers


def call(callers, who, method, path, **extra):
    line, client_for, keys = callers
    client = client_for(who)
    if who in keys:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {keys[who]}"
    return getattr(client, method)(path, **extra)


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("other customer", 404), ("owner", 200), ("no scope", 403), ("read", 200), ("esim", 403)],
)
def test_a_line(callers, who, status):
    response = call(callers, who, "get", f"/api/v1/lines/{MSISDN}")
    assert response.status_code == status, response.content
    if status == 200:
        body = response.json()
        assert (body["msisdn"], body["status"], body["plan"]) == (MSISDN, "active", "us-30day")
        assert {b["kind"] for b in body["buckets"]} == {"data", "voice", "sms"}
        assert "owner" not in str(body) and "email" not in str(body)


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 401), ("owner", 200), ("read", 401), ("other customer", 200)]
)
def test_the_list_is_the_callers_own(callers, who, status):
    response = call(callers, who, "get", "/api/v1/lines")
    assert response.status_code == status
    if who == "owner":
        assert [item["msisdn"] for item in response.json()["items"]] == [MSISDN]
    if who == "other customer":
        assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("other customer", 404), ("owner", 201), ("no scope", 403), ("read", 403), ("esim", 201)],
)
def test_reissue_over_the_api(sim, callers, who, status):
    line, _, _ = callers
    services.esim_for_new_line(line=line, profile_type="consumer")
    response = call(
        callers, who, "post", f"/api/v1/lines/{MSISDN}/esim/reissue", content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"reissue-{who}",
    )  # fmt: skip
    assert response.status_code == status, response.content
    orders = EsimOrder.objects.filter(line=line)
    assert orders.count() == (2 if status == 201 else 1)
    if status == 201:
        body = response.json()
        assert body["status"] == "released" and body["activation_code"] == str(orders.first().activation_code)
        png = call(callers, who, "get", f"/api/v1/lines/{MSISDN}/esim/qr.png")
        assert [f.text for f in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [
            body["activation_code"]
        ]
        again = call(
            callers, who, "post", f"/api/v1/lines/{MSISDN}/esim/reissue", content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"reissue-{who}",
        )  # fmt: skip
        assert again.json() == body and again["Idempotent-Replayed"] == "true"
        assert orders.count() == 2


def test_esim_status_and_refusals(sim, callers):
    line, _, _ = callers
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": "89049032007008882600000000000020"})
    status = call(callers, "owner", "get", f"/api/v1/lines/{MSISDN}/esim").json()
    assert (status["status"], status["activation_code"], status["downloads_left"]) == ("installed", None, 2)
    line.esim_profile.__class__.objects.filter(line=line).update(downloads=3)
    refused = call(  # a key's answers follow Accept-Language (a customer's, their own language)
        callers, "esim", "post", f"/api/v1/lines/{MSISDN}/esim/reissue", content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="limit", HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip
    assert refused.status_code == 409 and refused.json()["code"] == "esim_download_limit"
    assert not refused.json()["detail"].isascii()
    missing_key = call(callers, "owner", "post", f"/api/v1/lines/{MSISDN}/esim/reissue")
    assert missing_key.status_code == 422 and missing_key.json()["code"] == "idempotency_key_required"
