"""POST /api/v1/orders and GET /api/v1/orders/{id}: owner checks, idempotency keys, every way to pay."""

from decimal import Decimal

import pytest

from refill.ledger.services import wallet_adjust, wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("orders-api@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    client = Client()
    login(client, user)
    return client, customer, line


def post(client, body, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/orders", body, content_type="application/json", **headers)


def renewal(line, **extra):
    return {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "card", "card": CARD, **extra}


def test_a_renewal_paid_by_card_and_read_back(world):
    client, customer, line = world
    created = post(client, renewal(line, periods=2, expected_total="50.00"))
    assert created.status_code == 201
    order = created.json()
    assert (order["status"], order["msisdn"], order["plan"], order["periods"], order["total"]) == (
        "paid",
        line.msisdn,
        "us-30day",
        2,
        "50.00",
    )
    assert order["payments"][0]["method"] == "card" and "number" not in str(order)
    assert client.get(f"/api/v1/orders/{order['id']}").json() == order
    assert Period.objects.filter(line=line).count() == 2


def test_bad_requests_change_nothing(world):
    client, customer, line = world
    missing_key = post(client, renewal(line), key=None)
    assert missing_key.status_code == 422 and missing_key.json()["code"] == "idempotency_key_required"
    assert post(client, renewal(line, plan="nope")).json()["code"] == "plan_not_available"
    assert post(client, renewal(line, pay_with="card", card=None)).json()["code"] == "order_not_payable"
    assert post(client, renewal(line, periods=0)).status_code == 422
    price_moved = post(client, renewal(line, expected_total="20.00"), key="k-2")
    assert price_moved.status_code == 409 and price_moved.json()["code"] == "price_changed"
    bad_card = post(client, renewal(line, card={**CARD, "number": "1234"}), key="k-3")
    assert bad_card.status_code == 402 and bad_card.json()["decline_code"] == "invalid_card"
    # The app can open the help article about declines (the help index while none is published).
    assert bad_card.json()["help_url"].endswith("/help/")
    assert not Payment.objects.exists() and not Period.objects.exists()


def test_a_decline_names_its_help_article(world):
    from django.conf import settings

    from refill.help.demo import articles_seed
    from refill.help.selectors import help_url

    articles_seed()
    client, customer, line = world
    declined = post(client, renewal(line, card={**CARD, "number": "4000000000009995"}), key="k-help")
    assert declined.status_code == 402
    assert declined.json()["help_url"] == settings.REFILL_PUBLIC_URL.rstrip("/") + help_url("payment-declined")
    assert declined.json()["help_url"].endswith("/help/payment-declined/")


def test_other_customers_lines_and_orders_are_not_found(world):
    client, customer, line = world
    other, other_user = make_customer("other@example.com")
    other_line = make_line(other, line.market, line.plan, msisdn="+12025550199")
    assert post(client, renewal(other_line)).status_code == 404
    other_client = Client()
    login(other_client, other_user)
    mine = post(client, renewal(line)).json()
    assert other_client.get(f"/api/v1/orders/{mine['id']}").status_code == 404
    assert Client().get(f"/api/v1/orders/{mine['id']}").status_code == 401
    # Another customer's saved method cannot be used either.
    method = other_client.post("/api/v1/payment-methods", CARD, content_type="application/json").json()
    refused = post(client, renewal(line, pay_with="saved_method", payment_method_id=method["id"]), key="k-4")
    assert refused.status_code == 404


def test_wallet_saved_method_and_wallet_plus_card(world):
    client, customer, line = world
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("30.00"), reason="test", key="seed")
    by_wallet = post(client, {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "wallet"}, key="w")
    assert by_wallet.status_code == 201 and by_wallet.json()["payments"][0]["method"] == "wallet"
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    split = post(client, renewal(line, pay_with="wallet_card"), key="wc").json()
    assert sorted((p["method"], p["amount"]) for p in split["payments"]) == [("card", "20.00"), ("wallet", "5.00")]
    method = client.post("/api/v1/payment-methods", CARD, content_type="application/json").json()
    saved = post(client, renewal(line, pay_with="saved_method", card=None, payment_method_id=method["id"]), key="s")
    assert saved.status_code == 201 and saved.json()["status"] == "paid"
    assert Order.objects.filter(status="paid").count() == 3 and Period.objects.filter(line=line).count() == 3


def test_a_provider_wallet_sends_the_customer_to_the_provider(world):
    client, customer, line = world
    response = post(client, {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "alipay"})
    payment = response.json()["payments"][0]
    assert response.status_code == 201 and payment["status"] == "requires_action"
    assert payment["next_url"].startswith("http://testserver/sandbox/confirm/")


def test_orders_list_pages_and_receipt_pdf(world):
    import pypdfium2

    client, customer, line = world
    ids = [post(client, renewal(line), key=f"page-{n}").json()["id"] for n in range(3)]
    first = client.get("/api/v1/orders?limit=2").json()
    second = client.get(f"/api/v1/orders?limit=2&cursor={first['next_cursor']}").json()
    assert [o["id"] for o in first["items"] + second["items"]] == ids and second["next_cursor"] is None
    pdf = client.get(f"/api/v1/orders/{ids[0]}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pypdfium2.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert Order.objects.get(pk=ids[0]).receipt.display_number in text
    other = Client()
    login(other, make_customer("nosy@example.com")[1])
    assert other.get(f"/api/v1/orders/{ids[0]}/receipt.pdf").status_code == 404
    assert other.get("/api/v1/orders").json()["items"] == []
