"""Renewing the verified line at the counter, for cash or by a card typed there: the shop price,
one order per form however often it is sent, the cash owed by the agent's drawer, the card
tokenised by the gateway and never stored or shown."""

from decimal import Decimal

import pytest
from django.urls import reverse

from refill.agentdesk.models import ShopSale
from refill.audit.models import AuditEvent
from refill.ledger.models import Account
from refill.ledger.services import account_balance, account_for
from refill.orders.models import Order
from refill.payments.models import Payment, PaymentMethod
from tests.factories import make_promotion, make_saved_card
from tests.pagetext import visible_text

from .conftest import renew_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(client, agent, customer_line):
    customer, line = customer_line
    verify_by_pin(client, line)
    return customer, line


def test_the_renewal_page_shows_the_shop_price(client, verified, plan, market):
    customer, line = verified
    make_promotion(market, name_en="Counter deal", channels=["shop"])
    make_promotion(market, name_en="Web deal", percent=Decimal(50), channels=["web"])
    page = client.get(reverse("agentdesk:renew", args=[line.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Counter deal" in body and "Web deal" not in body
    assert page.context["quote"].quote.total.amount == Decimal("22.50")
    assert "Take $22.50 in cash" in body


def test_renew_for_cash(client, agent, verified, plan):
    customer, line = verified
    old_end = line.period_end
    answer = renew_at_counter(client, line, plan)
    order = Order.objects.get(customer=customer)
    assert answer.status_code == 302 and answer["Location"] == reverse("agentdesk:receipt", args=[order.pk])
    assert order.status == Order.Status.PAID and order.total == Decimal("25.00")
    line.refresh_from_db()
    assert line.period_end is not None and line.period_end != old_end
    payment = order.payments.get()
    assert payment.method == Payment.Method.CASH and payment.gateway == f"agent-{agent.pk}"
    drawer = account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")
    assert account_balance(drawer) == Decimal("25.00")
    sale = ShopSale.objects.get(order=order)
    assert sale.shop.code == "main-st" and sale.agent == agent
    assert AuditEvent.objects.filter(action="order.create", object_id=str(order.pk), actor=agent).exists()
    # a double click or a resent form: one order, one payment
    renew_at_counter(client, line, plan)
    assert Order.objects.filter(customer=customer).count() == 1 and Payment.objects.count() == 1
    page = client.get(answer["Location"]).content.decode()
    assert "renewed: $25.00 paid" in page


def test_renew_by_card(client, agent, verified, plan):
    customer, line = verified
    answer = renew_at_counter(client, line, plan, pay="card")
    order = Order.objects.get(customer=customer)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    payment = order.payments.get()
    assert payment.method == Payment.Method.CARD and payment.status == Payment.Status.SUCCEEDED
    assert not PaymentMethod.objects.filter(customer=customer).exists()  # nothing saved
    receipt = client.get(answer["Location"]).content.decode()
    assert "4242" not in visible_text(receipt) and "Visa" in receipt
    # card money is not the drawer's
    drawer = account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")
    assert account_balance(drawer) == 0


def test_a_declined_card_then_cash_makes_one_order(client, verified, plan):
    customer, line = verified
    declined = renew_at_counter(client, line, plan, pay="card", card_number="4000 0000 0000 9995")
    body = declined.content.decode()
    assert declined.status_code == 402 and "not enough money" in body
    assert "4000 0000 0000 9995" not in body and "4000000000009995" not in body  # never written back
    assert Order.objects.get(customer=customer).status == Order.Status.AWAITING_PAYMENT
    paid = renew_at_counter(client, line, plan, pay="cash")
    assert paid.status_code == 302
    assert Order.objects.get(customer=customer).status == Order.Status.PAID


def test_a_changed_price_is_not_taken(client, verified, plan):
    """Re-quoted and shown for confirmation (test_counter_price_and_wallet.py), never taken."""
    customer, line = verified
    answer = renew_at_counter(client, line, plan, total="20.00")
    assert answer.status_code == 200 and 'data-testid="price-confirm"' in answer.content.decode()
    assert not Order.objects.filter(customer=customer).exists()


def test_missing_card_fields_are_asked_for(client, verified, plan):
    customer, line = verified
    answer = renew_at_counter(client, line, plan, pay="card", card_number="")
    assert answer.status_code == 400
    assert not Order.objects.filter(customer=customer).exists()


def test_the_agent_sees_no_saved_cards(client, verified, plan):
    customer, line = verified
    make_saved_card(customer, token="tok", last4="1881")
    for url in (reverse("agentdesk:renew", args=[line.pk]), reverse("agentdesk:desk") + f"?msisdn={line.msisdn}"):
        page = client.get(url).content.decode()
        assert "1881" not in visible_text(page) and 'value="saved-' not in page


def test_a_card_number_the_gateway_refuses(client, verified, plan):
    customer, line = verified
    answer = renew_at_counter(client, line, plan, pay="card", card_number="4242 4242 4242 4241")
    # Its Luhn check digit is wrong: refused by the card form itself (issue 26), before any order
    assert answer.status_code == 400 and "The card number is not valid" in answer.content.decode()
    assert not Payment.objects.exists() and not Order.objects.exists()


def test_a_card_the_bank_must_confirm_is_not_taken_at_the_counter(client, verified, plan):
    customer, line = verified
    answer = renew_at_counter(client, line, plan, pay="card", card_number="4000 0000 0000 3162")
    assert answer.status_code == 409 and "cannot be done at the counter" in answer.content.decode()
    assert answer.context["idempotency_key"] != "form-1"  # the next try is a new order
    renew_at_counter(client, line, plan, key=answer.context["idempotency_key"])
    assert Order.objects.filter(customer=customer, status=Order.Status.PAID).count() == 1
