"""Fault injection: the provider call times out or the process dies at each step; reconciliation
ends with exactly one charge and one period, or none and a clear failure."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.integrations.payments.base import ChargeRequest
from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import PaymentInProgress
from refill.orders.models import Order
from refill.orders.paying import order_pay_card, payment_start
from refill.orders.settling import payments_reconcile
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment, SandboxCharge
from refill.subscriptions.models import Period
from tests.factories import card_token, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db(transaction=True)

CHARGED_THEN_TIMEOUT = "4000000000000341"
TIMEOUT_NOT_CHARGED = "4000000000000259"


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    return plan, customer, line


def new_order(world, key="o1"):
    plan, customer, line = world
    return order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key=key)


def later(minutes=6):
    return timezone.now() + timedelta(minutes=minutes)


def test_timeout_after_the_provider_charged_settles_to_one_charge_and_one_period(world):
    plan, customer, line = world
    order = new_order(world)
    gateway, token = card_token(CHARGED_THEN_TIMEOUT)
    payment = order_pay_card(order=order, token=token, gateway=gateway)
    assert payment.status == "unknown"
    assert not Period.objects.exists() and Order.objects.get(pk=order.pk).status == "awaiting_payment"
    # no second attempt for the line while the first is unknown
    other = new_order(world, key="o2")
    gateway, good = card_token()
    with pytest.raises(PaymentInProgress):
        order_pay_card(order=other, token=good, gateway=gateway)
    assert payments_reconcile() == 1
    assert payments_reconcile() == 0  # running it again changes nothing
    order.refresh_from_db()
    assert order.status == "paid" and Period.objects.filter(order_item__order=order).count() == 1
    assert SandboxCharge.objects.count() == 1 and order.receipt.number == 1


def test_timeout_before_anything_was_charged_settles_as_a_clear_failure(world):
    order = new_order(world)
    gateway, token = card_token(TIMEOUT_NOT_CHARGED)
    assert order_pay_card(order=order, token=token, gateway=gateway).status == "unknown"
    assert payments_reconcile() == 1
    payment = order.payments.get()
    assert (payment.status, payment.decline_code) == ("failed", "network_error")
    assert not Period.objects.exists() and not SandboxCharge.objects.exists()
    gateway, good = card_token()
    assert order_pay_card(order=order, token=good, gateway=gateway).status == "succeeded"  # paying again works


def test_crash_before_the_provider_call(world):
    plan, customer, line = world
    topup = order_create_topup(customer=customer, market=line.market, amount=Decimal("10.00"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=topup, token=token, gateway=gateway)
    order = new_order(world)
    payment = payment_start(order=order, token=token, gateway=gateway, wallet_amount=Decimal("10.00"))
    # ... and the process died here: the attempt is pending, the wallet part is held
    assert payment.status == "pending" and wallet_balance(customer, "USD") == 0
    assert payments_reconcile() == 0  # a fresh pending attempt may still be in flight
    assert payments_reconcile(now=later()) == 1
    payment.refresh_from_db()
    assert payment.status == "failed" and wallet_balance(customer, "USD") == Decimal("10.00")
    assert not Period.objects.filter(order_item__order=order).exists()


def test_crash_after_the_provider_charged_but_before_refill_recorded_it(world):
    order = new_order(world)
    gateway, token = card_token()
    payment = payment_start(order=order, token=token, gateway=gateway)
    gateway.charge(ChargeRequest(payment.amount, payment.currency, token.token, payment.idempotency_key, "x"))
    # ... and the process died before payment_complete
    assert payments_reconcile(now=later()) == 1
    order.refresh_from_db()
    assert order.status == "paid" and Period.objects.filter(order_item__order=order).count() == 1
    assert SandboxCharge.objects.count() == 1 and Payment.objects.get(pk=payment.pk).status == "succeeded"


def test_an_unanswering_provider_is_asked_again_later(world, monkeypatch):
    order = new_order(world)
    gateway, token = card_token(CHARGED_THEN_TIMEOUT)
    payment = order_pay_card(order=order, token=token, gateway=gateway)

    def silent(self, key):
        raise TimeoutError("still no answer")

    monkeypatch.setattr(SandboxGateway, "fetch", silent)
    now = timezone.now()
    assert payments_reconcile(now=now) == 0
    payment.refresh_from_db()
    assert payment.reconcile_attempts == 1 and payment.next_check_at == now + timedelta(minutes=1)
    assert payments_reconcile(now=now + timedelta(seconds=30)) == 0
    payment.refresh_from_db()
    assert payment.reconcile_attempts == 1  # not asked again before its time
    payments_reconcile(now=now + timedelta(minutes=1))
    payment.refresh_from_db()
    assert payment.reconcile_attempts == 2 and payment.next_check_at == now + timedelta(minutes=3)
    monkeypatch.undo()
    assert payments_reconcile(now=now + timedelta(minutes=4)) == 1
    order.refresh_from_db()
    assert order.status == "paid"
