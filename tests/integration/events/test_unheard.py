"""Events nobody listens to write nothing: the reminder sweep's ``line.expiring`` and an
auto-renewal's ``renewal.succeeded`` are only for partner webhooks, so without an endpoint that
subscribed to them no event row (nor delivery, nor task) is written; a kind kept for audit is written
all the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import Max
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refill import events
from refill.events.models import Delivery, Event
from refill.integrations.payments.sandbox import SandboxGateway
from refill.notifications.reminders import reminders_sweep
from refill.payments.services import method_add
from refill.renewals.autorenew import autorenew_sweep, autorenew_update
from refill.webhooks.models import WebhookEvent
from refill.webhooks.outbox import endpoint_create
from tests.factories import card_details, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """The partner's URL is on loopback (never called here), which only an allowed host may be."""
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def queued(settings):
    settings.REFILL_EVENTS_TASK_BACKEND = "default"


def test_an_event_no_handler_takes_writes_nothing_unless_kept_for_audit(settings, queued):
    assert events.emit("test.unheard", line_id=7, n=1) is None
    assert events.emit_many("test.unheard", [{"n": 2}, {"n": 3}]) == []
    assert not Event.objects.exists() and not Delivery.objects.exists() and not DBTaskResult.objects.exists()
    settings.REFILL_EVENTS_AUDIT_KINDS = ("test.unheard",)
    event = events.emit("test.unheard", line_id=7, n=4)
    assert Event.objects.get().pk == event.pk and not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def _lines_expiring(count: int) -> list:
    market = make_market()
    plan = make_plan(market)
    lines = []
    for n in range(count):
        customer, _ = make_customer(f"lapse{n}@example.com")
        line = make_line(customer, market, plan, msisdn=f"+1202555{n:04d}")
        line.status, line.period_end = "active", timezone.now() + timedelta(days=6.5)
        line.save(update_fields=["status", "period_end"])
        lines.append(line)
    return lines


def test_the_reminder_sweep_writes_line_expiring_only_for_a_listening_partner(queued):
    lines = _lines_expiring(3)
    now = timezone.now()
    reminders_sweep(now=now)
    assert not Event.objects.filter(kind="line.expiring").exists() and not Delivery.objects.exists()
    # A partner subscribes: the next sweep tells it of every line still expiring, once.
    endpoint_create(name="CRM", url="http://127.0.0.1:9/hooks", events=["line.expiring"], actor=None)
    reminders_sweep(now=now + timedelta(minutes=5))
    reminders_sweep(now=now + timedelta(minutes=10))
    written = Event.objects.filter(kind="line.expiring")
    assert sorted(e.line_id for e in written) == sorted(line.pk for line in lines)
    assert Delivery.objects.filter(event__in=written, handler="refill.webhooks.handlers.forward").count() == 3


def _auto_renewing_line():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, _ = make_customer("auto@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    method_add(customer=line.owner, gateway=SandboxGateway(), card=card_details(exp_year=2039))
    autorenew_update(line=line, actor=None, enabled=True)
    line.refresh_from_db()
    return line


@pytest.mark.parametrize("partner", [False, True], ids=["no partner", "a partner listens"])
def test_an_auto_renewal_writes_renewal_succeeded_only_for_a_listening_partner(partner):
    line = _auto_renewing_line()
    if partner:
        endpoint_create(name="CRM", url="http://127.0.0.1:9/hooks", events=["renewal.succeeded"], actor=None)
    before = Event.objects.aggregate(last=Max("pk"))["last"] or 0
    with time_machine.travel(line.period_end - timedelta(hours=23), tick=False):
        assert autorenew_sweep()["ran"] == 1
    kinds = sorted(Event.objects.filter(pk__gt=before).values_list("kind", flat=True))
    # order.paid is kept for audit (and the customer's confirmation handles it).
    assert kinds == (["order.paid", "renewal.succeeded"] if partner else ["order.paid"])
    assert WebhookEvent.objects.filter(type="renewal.succeeded").count() == (1 if partner else 0)
