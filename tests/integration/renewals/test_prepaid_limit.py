"""The prepaid-period limit before money moves counts the periods other orders of the line are
being paid for (docs/renewals.md): two orders each within the limit, paid at once, never take the
line past it."""

from datetime import UTC, datetime

import pytest

from refill.orders.checkout import order_create_renewal
from refill.orders.errors import TooManyPeriods
from refill.orders.models import Order
from refill.orders.paying import order_pay_card
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.factories import card_token, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2027, 1, 31, 5, 0, tzinfo=UTC)


def test_periods_being_paid_on_another_order_count_against_the_limit():
    market = make_market()
    plan = make_plan(market, "short", max_prepaid_periods=3)
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    renew(line, plan, now=T0)  # one period paid ahead: room for 2
    # an order for the 2 periods left, its card payment still being collected (in flight, not stale)
    first = order_create_renewal(customer=customer, line=line, plan=plan, periods=2, idempotency_key="a", now=T0)
    Payment.objects.create(
        order=first, idempotency_key="a:1", gateway="sandbox", amount=first.total, currency="USD", status="pending"
    )
    # a second order for 1 more, made while the first was being paid
    second = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="b", now=T0)
    gateway, token = card_token()
    with pytest.raises(TooManyPeriods) as refused:
        order_pay_card(order=second, token=token, gateway=gateway, now=T0)
    assert refused.value.params == {"limit": 3, "allowed": 0}
    # nothing was charged or granted for it
    assert not second.payments.exists()
    assert Order.objects.get(pk=second.pk).status == Order.Status.AWAITING_PAYMENT
    assert Period.objects.filter(line=line).count() == 1


def test_a_failed_payment_frees_its_periods():
    market = make_market()
    plan = make_plan(market, "short", max_prepaid_periods=3)
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    renew(line, plan, now=T0)
    first = order_create_renewal(customer=customer, line=line, plan=plan, periods=2, idempotency_key="a", now=T0)
    Payment.objects.create(
        order=first, idempotency_key="a:1", gateway="sandbox", amount=first.total, currency="USD", status="failed"
    )
    second = order_create_renewal(customer=customer, line=line, plan=plan, periods=2, idempotency_key="b", now=T0)
    gateway, token = card_token()
    payment = order_pay_card(order=second, token=token, gateway=gateway, now=T0)
    assert payment.status == Payment.Status.SUCCEEDED
    assert Period.objects.filter(line=line).count() == 3
