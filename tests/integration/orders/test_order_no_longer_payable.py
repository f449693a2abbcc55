"""A declined attempt that the customer then replaced by paying another order for the line (issue
23, item 6): the order history shows it as not completed, not "Awaiting payment"; it can no
longer be paid (that would renew twice); and its button goes to a fresh quote for the line."""

import re

import pytest
from django.utils import timezone

from refill.orders.checkout import order_create_renewal
from refill.orders.errors import OrderNotPayable
from refill.orders.models import Order
from refill.orders.paying import order_pay_card
from refill.subscriptions.models import Period
from tests.factories import card_token, login, make_customer, make_line, make_market, make_plan, renew

# An order card on the list: its state, then its title linking to the order.
CARD_STATE = r'data-state="([a-z_]+)">\s*<div class="order-head">\s*<a href="/orders/(\d+)/"'

pytestmark = pytest.mark.django_db(transaction=True)
DECLINED = "4000000000009995"  # insufficient funds


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer()
    line = make_line(customer, market, plan)
    renew(line, plan)
    login(client, user)
    return plan, line


def _declined(line, plan, key="declined"):
    order = order_create_renewal(customer=line.owner, line=line, plan=plan, periods=2, idempotency_key=key)
    gateway, token = card_token(DECLINED)
    order_pay_card(order=order, token=token, gateway=gateway)
    order.refresh_from_db()
    assert order.status != Order.Status.PAID
    return order


def test_a_declined_order_replaced_by_a_paid_one_is_shown_not_completed(client, world):
    plan, line = world
    declined = _declined(line, plan)
    replacement, _ = renew(line, plan)  # the customer renewed with another card

    page = client.get("/orders/").content.decode()
    assert f'href="/orders/{declined.pk}/"' in page
    states = {int(pk): state for state, pk in re.findall(CARD_STATE, page)}
    assert states[declined.pk] == "not_completed"
    assert states[replacement.pk] == "paid"

    detail = client.get(f"/orders/{declined.pk}/").content.decode()
    assert 'data-testid="not-completed"' in detail
    assert "badge-order-not_completed" in detail and "badge-order-awaiting_payment" not in detail
    # the button re-quotes: the line's renewal page for the same plan, not the stale order
    assert f'href="/lines/{line.pk}/renew/?plan=us-30day&amp;periods=2"' in detail


def test_a_declined_order_replaced_by_a_paid_one_cannot_be_paid(world):
    plan, line = world
    declined = _declined(line, plan)
    renew(line, plan)
    periods = Period.objects.filter(line=line).count()
    gateway, token = card_token()
    with pytest.raises(OrderNotPayable):
        order_pay_card(order=declined, token=token, gateway=gateway)
    declined.refresh_from_db()
    assert declined.status != Order.Status.PAID
    assert Period.objects.filter(line=line).count() == periods  # nothing renewed twice


def test_a_declined_order_not_replaced_may_still_be_paid_and_says_try_again(client, world):
    plan, line = world
    declined = _declined(line, plan)
    detail = client.get(f"/orders/{declined.pk}/").content.decode()
    assert 'data-testid="not-completed"' not in detail and 'data-testid="try-again"' in detail
    gateway, token = card_token()
    order_pay_card(order=declined, token=token, gateway=gateway, now=timezone.now())
    declined.refresh_from_db()
    assert declined.status == Order.Status.PAID


def test_an_order_too_old_to_pay_is_shown_not_completed_not_awaiting_payment(client, world):
    from datetime import timedelta

    from refill.orders.payable import ORDER_PAYABLE_FOR

    plan, line = world
    old = order_create_renewal(
        customer=line.owner,
        line=line,
        plan=plan,
        periods=1,
        idempotency_key="yesterday",
        now=timezone.now() - ORDER_PAYABLE_FOR - timedelta(hours=1),
    )
    page = client.get("/orders/").content.decode()
    states = {int(pk): state for state, pk in re.findall(CARD_STATE, page)}
    assert states[old.pk] == "not_completed"
    detail = client.get(f"/orders/{old.pk}/").content.decode()
    assert 'data-testid="not-completed"' in detail
    assert f'href="/lines/{line.pk}/renew/?plan=us-30day&amp;periods=1"' in detail
