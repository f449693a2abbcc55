from decimal import Decimal

import pytest
from django.utils import timezone

from refill.ledger.models import JournalEntry
from refill.ledger.services import wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import IdempotencyConflict, TopupOutOfRange, WalletTooLow
from refill.orders.models import Order, Receipt
from refill.orders.paying import order_pay_card, order_pay_wallet
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.factories import card_token, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer()
    line = make_line(customer, market, plan)
    return market, plan, customer, line


def topup(customer, market, amount, key="topup-1", card="4242424242424242"):
    order = order_create_topup(customer=customer, market=market, amount=Decimal(amount), idempotency_key=key)
    gateway, token = card_token(card)
    return order, order_pay_card(order=order, token=token, gateway=gateway)


def renewal_order(customer, line, plan, key="renew-1"):
    return order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key=key)


def test_topup_by_card_credits_the_wallet_with_a_receipt(world):
    market, plan, customer, line = world
    order, payment = topup(customer, market, "40.00")
    order.refresh_from_db()
    assert payment.status == "succeeded" and order.status == "paid"
    assert wallet_balance(customer, "USD") == Decimal("40.00")
    assert Receipt.objects.get(order=order).number == 1
    assert not Period.objects.exists()


def test_declined_topup_adds_nothing(world):
    market, plan, customer, line = world
    order, payment = topup(customer, market, "40.00", card="4000000000009995")
    assert payment.status == "failed" and wallet_balance(customer, "USD") == 0


@pytest.mark.parametrize("amount", ["4.99", "500.01", "10.001", "-5"])
def test_topup_limits(world, amount):
    market, plan, customer, line = world
    with pytest.raises(TopupOutOfRange) as caught:
        order_create_topup(customer=customer, market=market, amount=Decimal(amount), idempotency_key="x")
    assert "$5.00" in str(caught.value) and "$500.00" in str(caught.value)
    assert not Order.objects.exists()


def test_topup_key_replay_and_conflict(world):
    market, plan, customer, line = world
    first = order_create_topup(customer=customer, market=market, amount=Decimal("10"), idempotency_key="k")
    assert order_create_topup(customer=customer, market=market, amount=Decimal("10"), idempotency_key="k") == first
    with pytest.raises(IdempotencyConflict):
        order_create_topup(customer=customer, market=market, amount=Decimal("11"), idempotency_key="k")


def test_pay_renewal_from_wallet(world):
    market, plan, customer, line = world
    topup(customer, market, "30.00")
    order = renewal_order(customer, line, plan)
    payment = order_pay_wallet(order=order)
    assert payment.method == "wallet" and payment.status == "succeeded"
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    assert Period.objects.filter(line=line).count() == 1
    # paying again is a no-op
    assert order_pay_wallet(order=order).pk == payment.pk
    assert wallet_balance(customer, "USD") == Decimal("5.00")


def test_wallet_too_low_changes_nothing(world):
    market, plan, customer, line = world
    topup(customer, market, "20.00")
    order = renewal_order(customer, line, plan)
    with pytest.raises(WalletTooLow):
        order_pay_wallet(order=order)
    order.refresh_from_db()
    assert order.status == "awaiting_payment" and wallet_balance(customer, "USD") == Decimal("20.00")
    assert not Period.objects.exists() and not order.payments.exists()


def test_wallet_plus_card(world):
    market, plan, customer, line = world
    topup(customer, market, "10.00")
    order = renewal_order(customer, line, plan)
    gateway, token = card_token()
    card = order_pay_card(order=order, token=token, gateway=gateway, wallet_amount=Decimal("10.00"))
    assert card.amount == Decimal("15.00") and card.status == "succeeded"
    wallet_part = order.payments.get(method="wallet")
    assert wallet_part.status == "succeeded" and wallet_part.amount == Decimal("10.00")
    assert wallet_balance(customer, "USD") == 0
    assert Period.objects.filter(line=line).count() == 1


def test_wallet_plus_declined_card_gives_the_wallet_back(world):
    market, plan, customer, line = world
    topup(customer, market, "10.00")
    order = renewal_order(customer, line, plan)
    gateway, token = card_token("4000000000009995")
    card = order_pay_card(order=order, token=token, gateway=gateway, wallet_amount=Decimal("10.00"))
    assert card.status == "failed"
    assert order.payments.get(method="wallet").status == "failed"
    assert wallet_balance(customer, "USD") == Decimal("10.00")
    assert JournalEntry.objects.filter(cause="wallet_release").count() == 1
    # then the card works: the wallet is held and taken again, once
    gateway, token = card_token()
    order_pay_card(order=order, token=token, gateway=gateway, wallet_amount=Decimal("10.00"))
    assert wallet_balance(customer, "USD") == 0
    assert Payment.objects.filter(order=order, status="succeeded").count() == 2


def test_wallet_hold_needs_the_money(world):
    market, plan, customer, line = world
    topup(customer, market, "5.00")
    order = renewal_order(customer, line, plan)
    gateway, token = card_token()
    with pytest.raises(WalletTooLow):
        order_pay_card(order=order, token=token, gateway=gateway, wallet_amount=Decimal("6.00"))
    assert not order.payments.exists() and wallet_balance(customer, "USD") == Decimal("5.00")


def test_capture_entry_for_topup_and_spend(world):
    market, plan, customer, line = world
    order, _ = topup(customer, market, "25.00")
    capture = JournalEntry.objects.get(cause="order", cause_id=str(order.pk))
    codes = {line.account.code: line.amount for line in capture.lines.select_related("account")}
    assert codes == {
        "clearing:USD:house:sandbox": Decimal("25.00"),
        f"wallet:USD:customer:{customer.pk}": Decimal("-25.00"),
    }
    assert timezone.now()  # keep the import used
