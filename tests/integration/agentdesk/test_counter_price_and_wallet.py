"""The counter's price follows the plan and periods chosen (htmx refreshes it; without script, a
payment for a price that was not this choice's re-quotes and asks to confirm, it is never a 409),
and the customer's wallet pays at the counter, alone or with a card for the rest, once the
customer is verified. The counter's auto-renew form speaks of the customer, not as them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from refill.ledger.models import Account
from refill.ledger.services import account_balance, account_for, wallet_adjust, wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment
from tests.factories import make_plan
from tests.pagetext import visible_text

from .conftest import renew_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_pass(market):
    return make_plan(market, "us-day", price="7.00", name_en="Day Pass", name_zh_hans="日通行证")


@pytest.fixture
def verified(client, agent, customer_line, day_pass):
    customer, line = customer_line
    verify_by_pin(client, line)
    return customer, line


def credit(customer, amount: str) -> None:
    wallet_adjust(customer=customer, currency="USD", amount=Decimal(amount), reason="goodwill", key=f"gw-{amount}")


def hidden_total(body: str) -> str:
    return re.search(r'name="expected_total" value="([^"]+)"', body).group(1)


def test_a_payment_for_another_choices_price_is_re_quoted_not_refused(client, verified, plan, day_pass):
    customer, line = verified
    shown = client.get(reverse("agentdesk:renew", args=[line.pk]), {"plan": day_pass.code}).content.decode()
    assert "Take $7.00 in cash" in shown and Decimal(hidden_total(shown)) == Decimal("7.00")
    # Without script, the agent picks the $25 plan and presses the button still showing $7.00.
    answer = renew_at_counter(client, line, plan, total="7.00")
    body = answer.content.decode()
    assert answer.status_code == 200 and 'data-testid="price-confirm"' in body
    assert "the price for this choice is $25.00" in visible_text(body)
    assert "Take $25.00 in cash" in body and Decimal(hidden_total(body)) == Decimal("25.00")
    assert 'value="us-30day" checked' in body  # the choice is kept
    assert not Order.objects.filter(customer=customer).exists()  # nothing taken
    confirmed = renew_at_counter(client, line, plan, total=hidden_total(body))
    assert confirmed.status_code == 302
    assert Order.objects.get(customer=customer).total == Decimal("25.00")


def test_the_price_panel_follows_the_choice(client, verified, plan, day_pass):
    customer, line = verified
    credit(customer, "30.00")
    url = reverse("agentdesk:renew_quote", args=[line.pk])
    body = client.get(url, {"plan": plan.code, "periods": "2"}).content.decode()
    assert '<section class="quote" id="quote"' in body and Decimal(hidden_total(body)) == Decimal("50.00")
    # The buttons beside it carry the same price (swapped out of band), and the wallet's offer.
    assert re.search(r'id="pay-cash"[^>]*hx-swap-oob="true"[^>]*>Take \$50\.00 in cash<', body)
    assert "Take $30.00 from the wallet and charge $20.00 to the card" in body
    one = client.get(url, {"plan": day_pass.code, "periods": "1"}).content.decode()
    assert "Take $7.00 in cash" in one and "Pay $7.00 from the wallet" in one
    # The renewal page asks for this panel on every change of plan, periods or code.
    page = client.get(reverse("agentdesk:renew", args=[line.pk])).content.decode()
    assert f'hx-get="{url}"' in page and 'hx-trigger="change"' in page


def test_pay_from_the_customers_wallet(client, agent, verified, plan):
    customer, line = verified
    credit(customer, "30.00")
    page = client.get(reverse("agentdesk:renew", args=[line.pk]), {"plan": plan.code}).content.decode()
    assert "Balance: $30.00" in visible_text(page) and 'data-testid="pay-wallet"' in page
    answer = renew_at_counter(client, line, plan, pay="wallet")
    order = Order.objects.get(customer=customer)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    assert order.payments.get().method == Payment.Method.WALLET
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    drawer = account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")
    assert account_balance(drawer) == 0  # no cash was taken
    renew_at_counter(client, line, plan, pay="wallet")  # a double click: paid once
    assert wallet_balance(customer, "USD") == Decimal("5.00") and Payment.objects.count() == 1


def test_the_wallet_first_and_a_card_for_the_rest(client, verified, plan):
    customer, line = verified
    credit(customer, "10.00")
    page = client.get(reverse("agentdesk:renew", args=[line.pk]), {"plan": plan.code}).content.decode()
    assert 'data-testid="pay-wallet"' not in page and 'data-testid="wallet-short"' in page
    assert "Take $10.00 from the wallet and charge $15.00 to the card" in page
    answer = renew_at_counter(client, line, plan, pay="wallet_card",
                              card_number="4242 4242 4242 4242", card_expiry="12/39", card_cvc="123")  # fmt: skip
    order = Order.objects.get(customer=customer)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    paid = {p.method: p.amount for p in order.payments.filter(status=Payment.Status.SUCCEEDED)}
    assert paid == {Payment.Method.WALLET: Decimal("10.00"), Payment.Method.CARD: Decimal("15.00")}
    assert wallet_balance(customer, "USD") == 0


def test_a_wallet_that_does_not_cover_the_price_takes_nothing(client, verified, plan):
    customer, line = verified
    credit(customer, "10.00")
    answer = renew_at_counter(client, line, plan, pay="wallet")
    assert answer.status_code == 409
    assert "holds $10.00, less than $25.00" in visible_text(answer.content.decode())
    assert wallet_balance(customer, "USD") == Decimal("10.00")
    assert not Order.objects.filter(customer=customer, status=Order.Status.PAID).exists()


def test_an_unverified_customers_wallet_is_not_offered_or_taken(client, agent, customer_line, plan):
    customer, line = customer_line
    credit(customer, "30.00")
    assert client.get(reverse("agentdesk:renew_quote", args=[line.pk]), {"plan": plan.code}).status_code == 403
    assert renew_at_counter(client, line, plan, pay="wallet").status_code == 403
    assert wallet_balance(customer, "USD") == Decimal("30.00")


def test_the_counters_auto_renew_form_speaks_of_the_customer(client, verified):
    customer, line = verified
    text = visible_text(client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn}).content.decode())
    assert "Pay from the customer's wallet first" in text and "the customer's default card" in text
    assert " my " not in f" {text} ".replace("keep-my-number", "")
