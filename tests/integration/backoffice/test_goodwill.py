"""Goodwill extension in the customer 360: support gives a line 1 to 3 free periods of its plan (after
an outage, say). It is a zero order paid by a zero goodwill payment and fulfilled at once, so the
periods stack like a renewal's, count against the prepaid limit, are given once per form, move no
money, cannot be refunded, and are audited on the line with the reason and the end before and after."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.customers.models import User
from refill.ledger.models import JournalEntry
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.lines.services import lines_lapse_sweep
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order, Refund
from refill.orders.paying import payment_start
from refill.orders.refunds import RefundRefused, order_refund
from refill.payments.models import Payment, SandboxCharge
from refill.renewals.goodwill import GoodwillTooManyPeriods, order_create_goodwill
from refill.subscriptions.models import Period
from tests.factories import card_token, login, make_customer, make_line, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db


def member(role: str) -> tuple[Client, User]:
    user = make_staff(role, f"{role}-goodwill@example.com")
    client = Client()
    login(client, user)
    return client, user


@pytest.fixture
def line(us, us_plan):
    customer, _ = make_customer("outage@example.com")
    line = make_line(customer, us, us_plan, msisdn="+12025550177", sim_type="physical")
    renew(line, us_plan)
    return line


def give(client: Client, line: Line, *, periods=1, reason="network outage 3 May", key="form-1"):
    url = reverse("backoffice:customer_goodwill", args=[line.owner_id, line.pk])
    answer = client.post(url, {"periods": periods, "reason": reason, "idempotency_key": key}, follow=True)
    assert answer.redirect_chain == [(reverse("backoffice:customer", args=[line.owner_id]), 302)]
    # What the page said after the action (shown once, then gone).
    return [str(message) for message in answer.context["messages"]]


def goodwill_orders(line: Line):
    return Order.objects.filter(line=line, payments__method=Payment.Method.GOODWILL)


def counts(line: Line) -> dict:
    line.refresh_from_db()
    return {
        "orders": Order.objects.count(),
        "payments": Payment.objects.count(),
        "periods": Period.objects.count(),
        "audit": AuditEvent.objects.count(),
        "period_end": line.period_end,
    }


def test_the_extension_stacks_after_the_current_end(line):
    # given a line paid until its current end
    client, _ = member("support")
    end = line.period_end
    page = client.get(reverse("backoffice:customer", args=[line.owner_id])).content.decode()
    assert 'data-testid="goodwill-form"' in page and "3 periods, valid until" in page  # the preview
    # when support gives two periods
    said = give(client, line, periods=2)
    # then they follow the current period with no gap, as a renewal's would
    order = goodwill_orders(line).get()
    periods = list(Period.objects.filter(order_item__order=order).order_by("sequence"))
    assert [p.sequence for p in periods] == [1, 2]
    assert periods[0].start == end and periods[1].start == periods[0].end
    line.refresh_from_db()
    assert line.period_end == periods[1].end > end + timedelta(days=59)
    assert line.status == "active" and line.plan_id == order.items.get().plan_id
    assert order.status == Order.Status.PAID and order.total == 0 and order.receipt.total == 0
    item = order.items.get()
    assert (item.periods, item.unit_price, item.amount) == (2, 0, 0)
    assert item.plan_price == line.plan.current_price("USD")
    payment = order.payments.get()
    assert (payment.method, payment.status, payment.amount) == ("goodwill", "succeeded", 0)
    assert len(said) == 1 and "is now valid until" in said[0]
    # and the 360 shows the order as goodwill
    page = client.get(reverse("backoffice:customer", args=[line.owner_id])).content.decode()
    assert 'data-testid="goodwill-order"' in page and "Goodwill (no charge)" in page


def test_a_lapsed_line_starts_now_and_is_active_again(us, us_plan):
    customer, _ = make_customer()
    line = make_line(customer, us, us_plan)
    with time_machine.travel(timezone.now() - timedelta(days=33), tick=False):
        renew(line, us_plan)
    lines_lapse_sweep()
    line.refresh_from_db()
    assert line.status == "grace"
    client, _ = member("support")
    started = timezone.now()
    give(client, line)
    line.refresh_from_db()
    period = Period.objects.get(order_item__order__in=goodwill_orders(line))
    assert started <= period.start <= timezone.now()  # nothing given for the lapsed days
    assert line.status == "active" and line.period_end == period.end


def test_the_same_form_sent_twice_gives_once(line):
    client, _ = member("support")
    give(client, line, key="double-click")
    end = Line.objects.get(pk=line.pk).period_end
    said = give(client, line, key="double-click")
    assert "is now valid until" in said[0]  # the same answer
    order = goodwill_orders(line).get()
    assert Period.objects.filter(order_item__order=order).count() == 1
    assert Line.objects.get(pk=line.pk).period_end == end
    assert AuditEvent.objects.filter(action="line.goodwill_extend").count() == 1
    # The same key with another request is refused, and changes nothing.
    before = counts(line)
    said = give(client, line, key="double-click", periods=2)
    assert said == ["This form was already used for a different purchase. Please start again."]
    assert counts(line) == before


def test_the_prepaid_limit_is_kept_and_a_refusal_writes_nothing(us):
    plan = make_plan(us, "us-limited", max_prepaid_periods=2)
    customer, _ = make_customer()
    line = make_line(customer, us, plan)
    renew(line, plan, periods=2)
    client, _ = member("support")
    page = client.get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert 'data-testid="goodwill-refusal"' in page and "at most 0 more" in page
    before = counts(line)
    said = give(client, line)
    assert said == ["This plan may be paid at most 2 periods ahead; this number can be given at most 0 more now."]
    assert counts(line) == before


def test_periods_being_paid_for_count_against_the_limit(us):
    plan = make_plan(us, "us-limited-3", max_prepaid_periods=3)
    customer, _ = make_customer()
    line = make_line(customer, us, plan)
    renew(line, plan)
    # A card payment for one more period is in flight: one goodwill period is left, not two.
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="in-flight")
    gateway, token = card_token()
    payment_start(order=order, token=token, gateway=gateway)
    _, staff = member("support")
    with pytest.raises(GoodwillTooManyPeriods) as refused:
        order_create_goodwill(line=line, periods=2, actor=staff, reason="outage", idempotency_key="gw-1")
    assert refused.value.params["allowed"] == 1
    order_create_goodwill(line=line, periods=1, actor=staff, reason="outage", idempotency_key="gw-2")
    assert goodwill_orders(line).count() == 1
    Payment.objects.filter(order=order).update(status=Payment.Status.FAILED)  # leave no payment open


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        ("ported_out", "This number cannot be extended: its status is Ported out."),
        ("available", "This number cannot be extended: its status is Number released."),
    ],
)
def test_a_line_that_cannot_be_renewed_is_refused(line, status, refusal):
    Line.objects.filter(pk=line.pk).update(status=status)
    client, _ = member("support")
    before = counts(line)
    said = give(client, line)
    assert said == [refusal]
    assert counts(line) == before


def test_a_line_never_paid_for_is_refused(us, us_plan):
    customer, _ = make_customer()
    line = make_line(customer, us, us_plan)
    client, _ = member("support")
    before = counts(line)
    assert give(client, line) == ["This number has never been paid for: there is no service to extend yet."]
    assert counts(line) == before


def test_a_plan_no_longer_on_sale_is_refused_unless_a_plan_change_waits(line, us):
    client, _ = member("support")
    line.plan.is_active = False
    line.plan.save()
    before = counts(line)
    said = give(client, line)
    assert len(said) == 1 and "there is no plan to extend" in said[0]
    assert counts(line) == before
    # With a plan change waiting, that plan is given (as the next renewal would be).
    new_plan = make_plan(us, "us-new")
    Line.objects.filter(pk=line.pk).update(next_plan=new_plan)
    give(client, line, key="form-2")
    assert goodwill_orders(line).get().items.get().plan == new_plan


def test_a_reason_is_required(line):
    client, _ = member("support")
    before = counts(line)
    assert give(client, line, reason="   ") == ["This field is required."]
    assert counts(line) == before


def test_only_staff_who_may_act_can_give(line):
    finance, _ = member("finance")  # may see the customer 360, not act
    page = finance.get(reverse("backoffice:customer", args=[line.owner_id])).content.decode()
    assert 'data-testid="goodwill-form"' not in page
    url = reverse("backoffice:customer_goodwill", args=[line.owner_id, line.pk])
    before = counts(line)
    answer = finance.post(url, {"periods": 1, "reason": "outage", "idempotency_key": "k"})
    assert answer.status_code == 403
    assert counts(line) == before
    # Another customer's line is not reachable through this customer's page.
    support, _ = member("support")
    other, _ = make_customer()
    other_line = make_line(other, line.market, line.plan)
    url = reverse("backoffice:customer_goodwill", args=[line.owner_id, other_line.pk])
    assert support.post(url, {"periods": 1, "reason": "x", "idempotency_key": "k"}).status_code == 404


def test_it_is_audited_with_the_reason_and_the_end_before_and_after(line):
    client, user = member("support")
    end = line.period_end
    give(client, line, periods=3, reason="outage in Queens")
    line.refresh_from_db()
    event = AuditEvent.objects.get(action="line.goodwill_extend")
    order = goodwill_orders(line).get()
    assert (event.actor, event.reason, event.object_type, event.object_id) == (
        user,
        "outage in Queens",
        "lines.line",
        str(line.pk),
    )
    assert event.data["before"] == {"period_end": end.isoformat()}
    assert event.data["after"] == {"period_end": line.period_end.isoformat()}
    assert event.data["order"] == order.pk and event.data["periods"] == 3
    assert AuditEvent.objects.filter(action="order.paid", object_id=str(order.pk)).exists()


def test_no_money_moves(line):
    customer = line.owner
    entries, charges = JournalEntry.objects.count(), SandboxCharge.objects.count()
    wallet = wallet_balance(customer, "USD")
    client, _ = member("support")
    give(client, line, periods=2)
    assert JournalEntry.objects.count() == entries
    assert SandboxCharge.objects.count() == charges
    assert wallet_balance(customer, "USD") == wallet
    # ledger_check (run after every database test by tests/conftest.py) accepts the goodwill order.
    from refill.invariants.checks import check_goodwill

    assert check_goodwill() == []


def test_a_goodwill_order_cannot_be_refunded(line):
    client, _ = member("admin")  # may act and refund
    give(client, line)
    order = goodwill_orders(line).get()
    page = client.get(reverse("backoffice:customer", args=[line.owner_id])).content.decode()
    assert reverse("backoffice:refund", args=[order.pk]) not in page
    paid = Order.objects.exclude(pk=order.pk).get(line=line)
    assert reverse("backoffice:refund", args=[paid.pk]) in page  # a paid order still offers it
    for destination in ("original", "wallet"):
        with pytest.raises(RefundRefused):
            order_refund(
                order=order,
                amount=Decimal("0.01"),
                destination=destination,
                reason="asked",
                idempotency_key=f"refund-{destination}",
            )
    assert not Refund.objects.filter(order=order).exists()
