"""The customer 360: support finds a customer by number, ICCID, email, name or order id, sees their
lines, balances, orders, payments, notifications and audit history, and acts for them, each action
with a reason in the audit log. Roles decide who may look and who may act."""

import pytest
from django.test import Client
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.formatting import iccid_html
from refill.renewals.models import AutoRenew
from refill.subscriptions.models import Bucket
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db


def member(role: str) -> Client:
    user = make_staff(role, f"{role}-360@example.com")
    client = Client()
    login(client, user)
    return client


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer("wang.fang@example.com")
    customer.display_name = "Wang Fang"
    customer.save()
    line = make_line(customer, market, plan, msisdn="+12025550161", sim_type="physical")
    order, _ = renew(line, plan)
    return customer, line, order


def test_support_finds_a_customer_by_anything_they_are_told(world):
    customer, line, order = world
    client = member("support")
    page = reverse("backoffice:customer", args=[customer.pk])
    for query in ["(202) 555-0161", "0161", line.iccid, "wang.fang@example.com", "wang fang", str(order.pk)]:
        answer = client.get(reverse("backoffice:customers"), {"q": query})
        assert answer.status_code == 302 and answer["Location"] == page, query
    assert b"No customer matches." in client.get(reverse("backoffice:customers"), {"q": "nobody"}).content


def test_a_partial_number_typed_with_spaces_finds_the_customer(world):
    customer, line, order = world
    client = member("support")
    page = reverse("backoffice:customer", args=[customer.pk])
    for query in ["202 555", "202-555", "(202) 555", "2025550161", "+1 202 555 0161", "555 0161"]:
        answer = client.get(reverse("backoffice:customers"), {"q": query})
        assert answer.status_code == 302 and answer["Location"] == page, query


def test_the_360_page_shows_everything_about_them(world):
    customer, line, order = world
    body = member("support").get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert "Wang Fang" in body and "+1 202-555-0161" in body and iccid_html(line.iccid) in body
    assert order.receipt.display_number in body and "$25.00" in body  # orders and payments
    assert "order.create" in body and "order.paid" in body  # the audit history
    assert 'data-testid="bucket-' in body  # balances


def test_acting_for_a_customer_needs_a_reason_and_is_audited(world):
    from django_tasks_db.models import DBTaskResult

    customer, line, order = world
    client = member("support")
    url = reverse("backoffice:customer_autorenew", args=[customer.pk, line.pk])
    client.post(url, {"enabled": "on", "reason": ""})
    assert not AutoRenew.objects.filter(line=line, enabled=True).exists()  # no reason, no change
    client.post(url, {"enabled": "on", "reason": "asked by phone"})
    assert AutoRenew.objects.get(line=line).enabled
    assert AuditEvent.objects.get(action="autorenew.update").reason == "asked by phone"
    bucket = Bucket.objects.filter(line=line, kind="data").first()
    client.post(
        reverse("backoffice:customer_bucket", args=[customer.pk, bucket.pk]), {"change": 1024, "reason": "outage"}
    )
    bucket.refresh_from_db()
    assert bucket.granted == 20480 + 1024
    adjusted = AuditEvent.objects.get(action="bucket.adjust")
    assert adjusted.reason == "outage" and adjusted.data["before"] == {"granted": 20480}
    client.post(
        reverse("backoffice:customer_bucket", args=[customer.pk, bucket.pk]), {"change": -(10**6), "reason": "x"}
    )
    bucket.refresh_from_db()
    assert bucket.granted == 20480 + 1024  # never below what is used (or zero)
    client.post(reverse("backoffice:customer_resend", args=[customer.pk, order.pk]), {"reason": "lost it"})
    resent = AuditEvent.objects.get(action="order.receipt_resent")
    assert resent.reason == "lost it"
    task = DBTaskResult.objects.get(task_path="refill.notifications.tasks.resend_order_confirmation")
    assert task.args_kwargs["args"] == [order.pk, str(resent.pk)]


def test_roles_decide_who_may_look_and_act(world):
    customer, line, order = world
    page = reverse("backoffice:customer", args=[customer.pk])
    act = reverse("backoffice:customer_autorenew", args=[customer.pk, line.pk])
    assert member("catalog").get(page).status_code == 403
    finance = member("finance")
    assert finance.get(page).status_code == 200
    assert finance.post(act, {"enabled": "on", "reason": "x"}).status_code == 403
    # Another customer's line is not reachable through this customer's page.
    other, _ = make_customer()
    other_line = make_line(other, line.market, line.plan)
    support = member("support")
    assert support.post(reverse("backoffice:customer_autorenew", args=[customer.pk, other_line.pk]),
                        {"enabled": "on", "reason": "x"}).status_code == 404  # fmt: skip


def test_after_refunding_a_wrong_plan_the_360_shows_the_plan_the_line_really_has(world):
    """Issue 23, item 3: the refunded plan is no longer shown as the line's plan (nor renewed)."""
    from decimal import Decimal

    from refill.orders.refunds import order_refund

    customer, line, _ = world
    unlimited = make_plan(line.market, "us-unlimited", price="35.00", name_en="Monthly Unlimited")
    wrong, _ = renew(line, unlimited)
    order_refund(
        order=wrong, amount=Decimal("35.00"), destination="original", reason="bought by mistake", idempotency_key="w"
    )
    body = member("support").get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    shown = body.split('data-testid="line-plan"', 1)[1].split("</dd>", 1)[0]
    assert "30-Day Plan" in shown and "Monthly Unlimited" not in shown
    assert f'data-testid="order-refunded-{wrong.pk}"' in body  # the order's refund is shown too
