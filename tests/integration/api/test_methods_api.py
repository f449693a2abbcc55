import pytest

from refill.payments.models import PaymentMethod
from tests.factories import login, make_customer
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    customer, user = make_customer("methods@example.com")
    client = Client()
    login(client, user)
    return client, customer


CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123", "holder": "Ann"}


def test_methods_over_the_api(api):
    client, customer = api
    created = client.post("/api/v1/payment-methods", CARD, content_type="application/json")
    assert created.status_code == 201 and created.json()["last4"] == "4242" and created.json()["is_default"]
    second = client.post(
        "/api/v1/payment-methods", {**CARD, "number": "5555555555554444"}, content_type="application/json"
    ).json()
    assert client.post(f"/api/v1/payment-methods/{second['id']}/backup").json()["is_backup"] is True
    assert client.post(f"/api/v1/payment-methods/{second['id']}/nonsense").status_code == 422
    listed = client.get("/api/v1/payment-methods").json()
    assert [m["last4"] for m in listed] == ["4242", "4444"]
    assert "number" not in listed[0] and "cvc" not in listed[0]
    assert client.delete(f"/api/v1/payment-methods/{second['id']}").status_code == 204
    assert len(client.get("/api/v1/payment-methods").json()) == 1


def test_bad_card_and_other_customers(api):
    client, customer = api
    bad = client.post("/api/v1/payment-methods", {**CARD, "number": "1234"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "payment_method_refused"
    method_id = client.post("/api/v1/payment-methods", CARD, content_type="application/json").json()["id"]
    other_customer, other = make_customer()
    stranger = Client()
    login(stranger, other)
    assert stranger.delete(f"/api/v1/payment-methods/{method_id}").status_code == 404
    assert stranger.get("/api/v1/payment-methods").json() == []
    assert PaymentMethod.objects.get(pk=method_id).removed_at is None
