"""Incoming provider webhooks: signed, stored once, processed idempotently and in any order."""

import json
import time

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from refill.integrations.payments.sandbox import SandboxGateway
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import order_pay_card
from refill.payments.models import ProviderEvent
from refill.subscriptions.models import Period
from tests.factories import card_token, login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "whsec_test"
URL = "/webhooks/payments/sandbox/"


def send(client, body: dict, *, secret=SECRET, timestamp=None):
    raw = json.dumps(body).encode()
    return client.post(
        URL, raw, content_type="application/json", HTTP_SANDBOX_SIGNATURE=SandboxGateway.sign(raw, secret, timestamp)
    )


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


@pytest.fixture
def unknown_payment():
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o")
    gateway, token = card_token("4000000000000341")  # charged, answer lost
    return order_pay_card(order=order, token=token, gateway=gateway)


def event(payment, kind="charge.succeeded", event_id="evt_1"):
    return {
        "id": event_id,
        "type": kind,
        "data": {"idempotency_key": payment.idempotency_key, "reference": "ch_x", "decline_code": ""},
    }


@override_settings(REFILL_SANDBOX_WEBHOOK_SECRET=SECRET)
def test_a_signed_event_settles_the_payment_once(client, unknown_payment):
    assert send(client, event(unknown_payment)).json() == {"received": True, "duplicate": False}
    assert send(client, event(unknown_payment)).json()["duplicate"] is True  # the provider retried
    run_worker()
    order = Order.objects.get(pk=unknown_payment.order_id)
    assert order.status == "paid" and Period.objects.filter(order_item__order=order).count() == 1
    assert ProviderEvent.objects.get().status == "processed"


@override_settings(REFILL_SANDBOX_WEBHOOK_SECRET=SECRET)
def test_out_of_order_and_contradicting_events(client, unknown_payment):
    send(client, event(unknown_payment, "charge.succeeded", "evt_2"))
    send(client, event(unknown_payment, "charge.failed", "evt_1"))  # older news, arriving later
    send(client, event(unknown_payment, "payment_method.updated", "evt_3"))
    run_worker()
    statuses = dict(ProviderEvent.objects.values_list("event_id", "status"))
    assert statuses["evt_2"] == "processed"
    assert statuses["evt_3"] == "ignored"
    # whichever came first wins; the other is flagged, never applied
    assert sorted([statuses["evt_1"], statuses["evt_2"]]) in (["failed", "processed"], ["processed", "processed"])
    order = Order.objects.get(pk=unknown_payment.order_id)
    assert order.payments.get().status in ("succeeded", "failed")
    assert Period.objects.filter(order_item__order=order).count() == (1 if order.status == "paid" else 0)


@override_settings(REFILL_SANDBOX_WEBHOOK_SECRET=SECRET)
def test_bad_signatures_and_old_timestamps_are_refused(client, unknown_payment):
    assert send(client, event(unknown_payment), secret="wrong").status_code == 400
    assert send(client, event(unknown_payment), timestamp=int(time.time()) - 600).status_code == 400
    assert client.post(URL, b"{}", content_type="application/json").status_code == 400
    raw = b"not json"
    bad_body = client.post(
        URL, raw, content_type="application/json", HTTP_SANDBOX_SIGNATURE=SandboxGateway.sign(raw, SECRET)
    )
    assert bad_body.status_code == 400
    assert not ProviderEvent.objects.exists()


@override_settings(REFILL_SANDBOX_WEBHOOK_SECRET=SECRET)
def test_staff_replay_a_failed_event(client, unknown_payment, django_user_model):
    send(client, {"id": "evt_9", "type": "charge.succeeded", "data": {"idempotency_key": "nobody"}})
    run_worker()
    stored = ProviderEvent.objects.get()
    assert stored.status == "failed"
    staff = django_user_model.objects.create_superuser("ops@example.com", "x-pass-12345")
    login(client, staff)
    assert "evt_9" in client.get(reverse("backoffice:provider_events")).content.decode()
    client.post(reverse("backoffice:provider_event_replay", args=[stored.pk]))
    stored.refresh_from_db()
    assert stored.attempts == 2 and stored.status == "failed"


@override_settings(REFILL_SANDBOX_WEBHOOK_SECRET=SECRET)
def test_a_crash_while_applying_an_event_leaves_it_replayable_and_reconciliation_settles_once(
    client, unknown_payment, monkeypatch
):
    from refill.orders import settling as renewal_services
    from refill.orders.settling import payments_reconcile
    from refill.payments.services import provider_event_process

    real = renewal_services.payment_complete

    def crash(**kwargs):
        raise ConnectionError("database went away mid-event")

    monkeypatch.setattr(renewal_services, "payment_complete", crash)
    send(client, event(unknown_payment))
    run_worker()
    stored = ProviderEvent.objects.get()
    assert stored.status == "failed" and "database went away" in stored.detail
    order = Order.objects.get(pk=unknown_payment.order_id)
    assert order.status == "awaiting_payment" and order.payments.get().status == "unknown"

    monkeypatch.setattr(renewal_services, "payment_complete", real)
    assert payments_reconcile() == 1  # reconciliation does not wait for the webhook
    assert provider_event_process(event_pk=stored.pk, replay=True).status == "processed"  # agrees, no-op
    order.refresh_from_db()
    assert order.status == "paid" and Period.objects.filter(order_item__order=order).count() == 1
    assert order.payments.filter(status="succeeded").count() == 1
