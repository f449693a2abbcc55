"""A stranger's gift refill attempts on the owner's number: the owner sees a gift once it is paid,
labelled as one, and never the stranger's declined or unfinished attempt (which they could not
continue, and which would read as their own). Found by a new-user trial."""

from datetime import timedelta

import pytest
from django.test import Client as PageClient
from django.utils import timezone

from refill.orders.models import Order
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}
DECLINED = {**CARD, "number": "4000000000000002"}


def _gift(line, card, key):
    body = {"msisdn": line.msisdn, "plan": "us-30day", "card": card}
    return Client(REMOTE_ADDR="198.51.100.7").post(
        "/api/v1/refills", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_the_owner_sees_a_paid_gift_as_a_gift_and_not_a_strangers_declined_attempt():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    owner, user = make_customer("owner-gifts@example.com")
    line = make_line(owner, market, plan, msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    assert _gift(line, DECLINED, "g-declined").status_code == 402
    assert _gift(line, CARD, "g-paid").status_code == 201
    declined = Order.objects.get(payer="guest", status__in=["awaiting_payment", "cancelled", "failed"])
    paid = Order.objects.get(payer="guest", status="paid")

    page = PageClient()
    login(page, user)
    listing = page.get("/orders/")
    assert listing.status_code == 200
    shown = [order.pk for order in listing.context["orders"]]
    assert shown == [paid.pk]
    assert 'data-testid="order-gift"' in listing.content.decode()
    assert page.get(f"/orders/{paid.pk}/").status_code == 200
    assert page.get(f"/orders/{declined.pk}/").status_code == 404
