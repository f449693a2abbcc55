"""Webhooks out: a real receiver on loopback checks each signature, fails the first attempts, and
sees the retries; the delivery log keeps every attempt; staff can send one again."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from refill.errors import RefillError
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from refill.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from refill.webhooks.outbox import endpoint_create, webhook_emit, webhooks_deliver
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db


class Receiver:
    """A partner's endpoint: verifies the signature, answers 500 to the first ``fail`` requests."""

    def __init__(self, fail: int = 0):
        self.fail, self.seen, self.secret = fail, [], ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = dict(item.split("=", 1) for item in self.headers["Refill-Signature"].split(","))
                expected = hmac.new(receiver.secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
                valid = (
                    hmac.compare_digest(parts["v1"], expected.hexdigest()) and abs(time.time() - int(parts["t"])) < 300
                )
                receiver.seen.append({"id": self.headers["Refill-Event-Id"], "valid": valid, "body": json.loads(body)})
                status = 500 if receiver.fail > 0 else (204 if valid else 400)
                receiver.fail -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """The receivers here are on loopback, which only a host the operator allowed may be."""
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def receiver():
    r = Receiver(fail=2)
    yield r
    r.close()


def redeem_a_pin():
    market = make_market()
    customer, _ = make_customer()
    make_line(customer, market, make_plan(market))
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    return voucher_redeem(pin=pins[0][1], customer=customer, ip="127.0.0.1")


def test_signed_delivered_retried_and_logged(receiver):
    endpoint = endpoint_create(name="Reseller", url=receiver.url, events=["voucher.redeemed"], actor=None)
    receiver.secret = endpoint.secret
    voucher = redeem_a_pin()
    delivery = WebhookDelivery.objects.get()
    assert delivery.event.type == "voucher.redeemed" and delivery.event.payload["serial"] == voucher.serial
    start = timezone.now()
    assert webhooks_deliver(now=start) == 0  # 500: retried later
    assert webhooks_deliver(now=start) == 0  # not due yet
    assert webhooks_deliver(now=start + timedelta(minutes=1, seconds=1)) == 0  # 500 again
    assert webhooks_deliver(now=start + timedelta(minutes=4)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [a.status_code for a in WebhookAttempt.objects.filter(delivery=delivery)] == [500, 500, 204]
    assert len(receiver.seen) == 3 and all(s["valid"] for s in receiver.seen)
    assert len({s["id"] for s in receiver.seen}) == 1  # the same event id: the receiver drops duplicates
    assert receiver.seen[0]["body"]["type"] == "voucher.redeemed"


def test_gives_up_after_a_day_and_staff_can_send_again(receiver, client, django_user_model):
    receiver.fail = 10**6
    endpoint = endpoint_create(name="Down", url=receiver.url, events=["order.paid"], actor=None)
    receiver.secret = endpoint.secret
    market = make_market()
    customer, _ = make_customer()
    line = make_line(customer, market, make_plan(market))
    order, _ = renew(line, line.plan)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event.payload["order_id"] == order.pk
    moment = delivery.created_at
    while delivery.status == "pending":
        moment = max(moment, delivery.next_attempt_at)
        webhooks_deliver(now=moment)
        delivery.refresh_from_db()
    assert delivery.status == "failed" and moment - delivery.created_at >= timedelta(hours=24)
    assert delivery.attempts == WebhookAttempt.objects.filter(delivery=delivery).count() > 5
    receiver.fail = 0
    staff = make_staff(
        email="ops@example.com", permissions=["webhooks.view_webhookdelivery", "webhooks.change_webhookdelivery"]
    )
    login(client, staff)
    page = client.get("/backoffice/webhooks/").content.decode()
    assert "order.paid" in page and "500" in page
    client.post("/backoffice/webhooks/", {"replay": delivery.pk})
    assert webhooks_deliver() == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_only_subscribed_events_and_valid_endpoints(receiver):
    endpoint_create(name="Orders only", url=receiver.url, events=["order.paid"], actor=None)
    redeem_a_pin()
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()
    for bad in ({"name": "", "url": receiver.url, "events": ["order.paid"]},
                {"name": "x", "url": "ftp://x", "events": ["order.paid"]},
                {"name": "x", "url": receiver.url, "events": ["everything"]}):  # fmt: skip
        with pytest.raises(RefillError):
            endpoint_create(actor=None, **bad)


def test_events_are_written_with_their_change():
    from django.db import transaction

    endpoint_create(name="A", url="http://127.0.0.1:9/x", events=["voucher.redeemed"], actor=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit("voucher.redeemed", {"serial": "x"})
        raise RuntimeError("the change failed")
    assert not WebhookEvent.objects.exists()


def _lapsing_line(days_left: float):
    market = make_market()
    customer, _ = make_customer()
    line = make_line(customer, market, make_plan(market))
    line.status, line.period_end = "active", timezone.now() + timedelta(days=days_left)
    line.save(update_fields=["status", "period_end"])
    return line


def test_line_expiring_once_per_period_and_window(receiver):
    from refill.notifications.reminders import reminders_sweep

    endpoint = endpoint_create(name="CRM", url=receiver.url, events=["line.expiring"], actor=None)
    receiver.secret = endpoint.secret
    line = _lapsing_line(6.5)
    now = timezone.now()
    reminders_sweep(now=now)
    reminders_sweep(now=now + timedelta(hours=1))  # nothing new: said once
    event = WebhookEvent.objects.get(type="line.expiring")
    assert event.payload["msisdn"] == line.msisdn and event.payload["days"] == 7
    assert event.payload["auto_renew"] is False
    reminders_sweep(now=now + timedelta(days=4))  # now within three days
    assert sorted(e.payload["days"] for e in WebhookEvent.objects.filter(type="line.expiring")) == [3, 7]
    assert webhooks_deliver(now=now + timedelta(days=4)) == 0  # the receiver fails twice first
    webhooks_deliver(now=now + timedelta(days=5))
    assert [s["body"]["type"] for s in receiver.seen if s["valid"]][-1] == "line.expiring"


def test_line_status_changed_for_every_move_however_made(receiver):
    from refill.events.models import Event
    from refill.lines.services import lines_lapse_sweep

    line = _lapsing_line(-0.5)
    lines_lapse_sweep(now=timezone.now() - timedelta(days=1))  # nothing due yet
    assert not Event.objects.filter(kind="line.status_changed").exists()  # nobody subscribed: nothing kept
    endpoint = endpoint_create(name="CRM", url=receiver.url, events=["line.status_changed"], actor=None)
    receiver.secret = endpoint.secret
    lines_lapse_sweep(now=timezone.now())  # set-based: active -> grace
    line.refresh_from_db()
    renew(line, line.plan)  # through the order's fulfilment: grace -> active
    moves = [e.payload for e in WebhookEvent.objects.filter(type="line.status_changed").order_by("payload__at")]
    assert [(m["from_status"], m["to_status"], m["cause"]) for m in moves] == [
        ("active", "grace", "period_ended"),
        ("grace", "active", "renewal"),
    ]
    assert all(m["msisdn"] == line.msisdn for m in moves)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_a_line_move_without_a_listening_partner_writes_no_event():
    from refill.events.models import Event
    from refill.lines.services import lines_lapse_sweep

    line = _lapsing_line(-0.5)
    assert lines_lapse_sweep(now=timezone.now()) == 1
    line.refresh_from_db()
    assert line.status == "grace" and line.status_changes.count() == 1
    assert not Event.objects.filter(kind="line.status_changed").exists() and not WebhookEvent.objects.exists()
