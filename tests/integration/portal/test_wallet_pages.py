import re
from decimal import Decimal

import pytest
from django.urls import reverse

from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("wallet@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    login(client, user)
    return market, plan, customer, line


def _key(page) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)


def topup(client, amount, card=CARD):
    page = client.get(reverse("portal:wallet"))
    return client.post(
        reverse("portal:wallet"), {"market": "us", "amount": amount, "idempotency_key": _key(page), **card}
    )


def renew(client, line, pay_with, card=None):
    page = client.get(reverse("portal:renew", args=[line.pk]))
    expected = re.search(r'name="expected_total" value="([0-9.]+)"', page.content.decode()).group(1)
    data = {
        "plan": "us-30day",
        "periods": 1,
        "idempotency_key": _key(page),
        "expected_total": expected,
        "pay_with": pay_with,
        "action": "pay",
        **(card or {}),
    }
    return client.post(reverse("portal:renew", args=[line.pk]), data)


def test_topup_by_card_then_pay_from_wallet(client, world):
    market, plan, customer, line = world
    response = topup(client, "30")
    assert response.status_code == 302
    assert "Wallet topped up" in client.get(response.url).content.decode()
    page = client.get(reverse("portal:wallet")).content.decode()
    assert "$30.00" in page and "Top-up" in page
    renew_page = client.get(reverse("portal:renew", args=[line.pk])).content.decode()
    assert 'value="wallet" data-testid="pay-wallet" checked' in renew_page  # offered first when it covers it
    response = renew(client, line, "wallet")
    assert response.status_code == 302
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    assert Period.objects.filter(line=line).count() == 1
    statement = re.sub(r"</?span[^>]*>", "", client.get(reverse("portal:wallet")).content.decode())
    assert f"Renewal of {line.msisdn_display}: {plan.name}" in statement


def test_wallet_and_card_together(client, world):
    market, plan, customer, line = world
    topup(client, "10")
    response = renew(client, line, "wallet_card", CARD)
    assert response.status_code == 302
    order = Order.objects.filter(line=line).get()
    assert sorted(order.payments.values_list("method", "amount")) == [
        ("card", Decimal("15.0000")),
        ("wallet", Decimal("10.0000")),
    ]
    assert wallet_balance(customer, "USD") == 0
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert "Wallet" in detail and "•••• 4242" in detail


def test_wallet_too_low_is_explained(client, world):
    market, plan, customer, line = world
    topup(client, "10")
    response = renew(client, line, "wallet")
    assert response.status_code == 409
    assert "does not hold enough" in response.content.decode()
    assert wallet_balance(customer, "USD") == Decimal("10.00") and not Period.objects.exists()


def test_topup_limits_and_declines_on_the_page(client, world):
    market, plan, customer, line = world
    response = topup(client, "1")
    assert response.status_code == 400 and "Top up between $5.00 and $500.00" in response.content.decode()
    declined = topup(client, "20", {**CARD, "card_number": "4000 0000 0000 9995"})
    assert declined.status_code == 402 and "not enough money" in declined.content.decode()
    assert wallet_balance(customer, "USD") == 0


def test_redeem_page(client, world):
    from refill.vouchers.services import voucher_batch_generate

    market, plan, customer, line = world
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    response = client.post(reverse("portal:redeem"), {"pin": pins[0][1]})
    assert response.status_code == 302
    assert "$10.00 was added to your wallet." in client.get(response.url).content.decode()
    again = client.post(reverse("portal:redeem"), {"pin": pins[0][1]})
    assert again.status_code == 400 and "already been used" in again.content.decode()
    assert pins[0][1] not in again.content.decode()
    assert wallet_balance(customer, "USD") == Decimal("10.00")
