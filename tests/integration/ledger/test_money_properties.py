"""Property test: any sequence of top-ups, spends, renewals, refunds and PIN redemptions keeps
every money invariant after every step (the ledger_check rules), and the wallet never goes below zero."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refill.errors import RefillError
from refill.invariants.checks import run_all
from refill.ledger.services import wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import order_pay_card, order_pay_wallet
from refill.orders.refunds import order_refund
from refill.orders.topups import order_create_topup
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import card_token, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db

CARDS = st.sampled_from(["4242424242424242", "4242424242424242", "4000000000009995"])  # 1 in 3 declines
OPERATIONS = st.one_of(
    st.tuples(st.just("topup"), st.integers(min_value=5, max_value=80), CARDS),
    st.tuples(st.just("renew_card"), st.integers(min_value=1, max_value=2), CARDS),
    st.tuples(st.just("renew_wallet"), st.integers(min_value=1, max_value=2), CARDS),
    st.tuples(st.just("renew_mixed"), st.integers(min_value=1, max_value=2), CARDS),
    st.tuples(st.just("redeem"), st.sampled_from([5, 10, 20]), CARDS),
    st.tuples(st.just("refund"), st.integers(min_value=1, max_value=100), st.sampled_from(["original", "wallet"])),
)


class Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(OPERATIONS, min_size=1, max_size=10))
def test_any_sequence_keeps_the_books_straight(steps):
    try:
        with transaction.atomic():
            _run(steps)
            raise Rollback  # each example starts from an empty database
    except Rollback:
        pass


GOOD_CARD = "4242424242424242"


def _run(steps):
    """Each step does what it says: a good card pays, the declining card is declined (payment
    failed, insufficient funds, nothing granted), the wallet pays exactly when it holds the total,
    a PIN always redeems. The only refusals are the documented ones: the wallet too low for a
    wallet renewal (wallet_too_low) and the refund rules (refund_refused)."""
    market = make_market()
    plan = make_plan(market, "daily", price="7.50", validity_count=1, max_prepaid_periods=100)
    customer, _ = make_customer()
    line = make_line(customer, market, plan, msisdn="+12025550143")
    counter = 0
    for name, value, option in steps:
        counter += 1
        key = f"step-{counter}"
        wallet_before = wallet_balance(customer, "USD")
        outcome = None  # "paid", "declined" or the refusal's code
        try:
            if name == "topup":
                order = order_create_topup(customer=customer, market=market, amount=Decimal(value), idempotency_key=key)
                gateway, token = card_token(option)
                payment = order_pay_card(order=order, token=token, gateway=gateway)
                outcome = "paid" if payment.status == "succeeded" else "declined"
            elif name.startswith("renew"):
                order = order_create_renewal(
                    customer=customer, line=line, plan=plan, periods=value, idempotency_key=key
                )
                if name == "renew_wallet":
                    payment = order_pay_wallet(order=order)
                else:
                    gateway, token = card_token(option)
                    wallet_part = Decimal(0)
                    if name == "renew_mixed":
                        wallet_part = min(wallet_balance(customer, "USD"), order.total - Decimal("0.01"))
                    payment = order_pay_card(order=order, token=token, gateway=gateway, wallet_amount=wallet_part)
                outcome = "paid" if payment.status == "succeeded" else "declined"
            elif name == "redeem":
                _, pins = voucher_batch_generate(count=1, face_value=Decimal(value), currency="USD")
                voucher_redeem(pin=pins[0][1], customer=customer)
                outcome = "paid"
            elif name == "refund":
                paid = list(Order.objects.filter(customer=customer, status="paid").order_by("pk"))
                if paid:
                    order = paid[value % len(paid)]
                    amount = max((order.total * value / 100).quantize(Decimal("0.01")), Decimal("0.01"))
                    refund = order_refund(
                        order=order, amount=amount, destination=option, reason="property", idempotency_key=key
                    )
                    assert refund.status == "succeeded" and refund.amount == amount
                    outcome = "paid"
        except RefillError as refusal:
            outcome = refusal.code  # a refusal must leave the books as they were (checked below)
            assert wallet_balance(customer, "USD") == wallet_before
        if name == "refund":
            assert outcome in (None, "paid", "refund_refused"), outcome
        elif name == "renew_wallet":
            total = Order.objects.get(idempotency_key=key).total
            assert outcome == ("paid" if wallet_before >= total else "wallet_too_low"), (outcome, wallet_before, total)
        elif name == "redeem":
            assert outcome == "paid", outcome
        else:
            assert outcome == ("paid" if option == GOOD_CARD else "declined"), (name, option, outcome)
            if outcome == "declined":
                assert Order.objects.get(idempotency_key=key).status != "paid"
                assert wallet_balance(customer, "USD") == wallet_before  # a held wallet part came back
        assert wallet_balance(customer, "USD") >= 0
        problems = run_all()
        assert problems == [], (name, value, option, problems)
