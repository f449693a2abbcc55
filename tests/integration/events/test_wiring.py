"""The hand wiring became events: a paid or refunded order writes its event in the same
transaction, its subscribers handle it, and the emitters import none of them."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from refill import events
from refill.events.models import Delivery, Event
from refill.orders.refunds import order_refund
from tests.factories import make_customer, make_line, make_market, make_plan, renew

SRC = Path(__file__).resolve().parents[3] / "src" / "refill"
ORDER_PAID = {
    "refill.notifications.handlers.on_order_paid",
    "refill.renewals.gifts.on_order_paid",
    "refill.fleets.handlers.on_order_paid",
    "refill.esim.handlers.on_order_paid",
    "refill.webhooks.handlers.forward",
}


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module if node.level == 0 else f"refill.{path.parent.name}.{node.module}"
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_the_emitters_import_none_of_their_subscribers():
    subscribers = ("refill.notifications", "refill.fleets", "refill.esim", "refill.api", "refill.webhooks",
                   "refill.renewals.gifts.gifts_")  # fmt: skip
    checkout = ("orders/checkout.py", "orders/paying.py", "orders/settling.py", "orders/fulfilment.py")
    for emitter in (*checkout, "orders/refunds.py"):
        reached = {name for name in imported(SRC / emitter) if name.startswith(subscribers)}
        assert reached == set(), emitter
    # The checkout still asks the gift module whether a guest may pay (a check, not a subscriber).
    for module in checkout:
        assert "refill.renewals.gifts.gifts_notify" not in imported(SRC / module)
    # The sweeps tell partners through events, never through the API layer or the outbox.
    for emitter in ("renewals/autorenew.py", "renewals/autorenew_outcomes.py", "vouchers/services.py",
                    "esim/services.py", "notifications/reminders.py", "lines/services.py"):
        reached = {name for name in imported(SRC / emitter) if name.startswith(("refill.api", "refill.webhooks"))}
        assert reached == set(), emitter


def test_nothing_outside_the_outbox_imports_it_but_the_back_office_pages():
    importers = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        and path.parent.name != "webhooks"
        and any(name.startswith("refill.webhooks") for name in imported(path))
    }
    assert importers == {"backoffice/webhook_views.py"}
    assert not (SRC / "api" / "webhooks.py").exists()


def test_each_event_has_its_handlers_subscribed():
    assert set(events.subscribers("order.paid")) == ORDER_PAID
    for kind in ("renewal.succeeded", "renewal.failed", "esim.installed", "voucher.redeemed", "line.expiring",
                 "line.status_changed"):
        assert events.subscribers(kind) == ["refill.webhooks.handlers.forward"], kind
    assert events.subscribers("order.refunded") == ["refill.notifications.handlers.on_order_refunded"]


@pytest.mark.django_db(transaction=True)
def test_a_paid_then_refunded_order_writes_its_events_and_the_customer_hears_of_both(settings):
    settings.REFILL_EVENTS_TASK_BACKEND = "default"  # through the queue, as in production
    market = make_market()
    customer, _ = make_customer()
    plan = make_plan(market, "events-30", price="30.00")
    line = make_line(customer, market, plan)
    order, _ = renew(line, plan)
    paid = Event.objects.get(kind="order.paid")
    assert (paid.line_id, paid.customer_id, paid.payload["order_id"]) == (line.pk, customer.pk, order.pk)
    # Only the handlers that act on it get a delivery: the customer's own order, a new eSIM line's
    # first payment, no partner listening (no gift, no bulk job, no webhook).
    assert set(Delivery.objects.filter(event=paid).values_list("handler", flat=True)) == {
        "refill.notifications.handlers.on_order_paid",
        "refill.esim.handlers.on_order_paid",
    }
    refund = order_refund(order=order, amount=Decimal("30.00"), destination="original", reason="double purchase",
                          idempotency_key="events-r1")  # fmt: skip
    refunded = Event.objects.get(kind="order.refunded")
    assert (refunded.line_id, refunded.payload["refund_id"]) == (line.pk, refund.pk)
    assert not DBTaskResult.objects.filter(task_path__startswith="refill.notifications.").exists()
    for queued in DBTaskResult.objects.filter(task_path="refill.events.tasks.deliver_events").order_by("enqueued_at"):
        queued.task.call(*queued.args_kwargs["args"])
    assert not Delivery.objects.filter(status="pending").exists()
    told = set(
        DBTaskResult.objects.filter(task_path__startswith="refill.notifications.").values_list("task_path", flat=True)
    )
    assert told == {
        "refill.notifications.tasks.send_order_confirmations",
        "refill.notifications.tasks.send_refund_notice",
    }


def test_a_payment_never_imports_the_checkout():
    # A provider's answer settles the payment by a "payment.settled" event the checkout handles.
    reached = {
        name for name in imported(SRC / "payments/services.py") if name.startswith(("refill.renewals", "refill.orders"))
    }
    assert reached == set()
    assert events.subscribers("payment.settled") == ["refill.renewals.handlers.on_payment_settled"]


def test_usage_recording_knows_none_of_its_reactions():
    reached = {name for name in imported(SRC / "subscriptions/usage.py") if name.startswith("refill.notifications.")}
    assert reached <= {"refill.notifications.reminders", "refill.notifications.reminders.USAGE_THRESHOLDS"}
    assert "refill.notifications.reminders.usage_notices_for" not in imported(SRC / "subscriptions/usage.py")
    assert events.subscribers("bucket.threshold_crossed") == [
        "refill.notifications.handlers.on_bucket_threshold_crossed"
    ]
