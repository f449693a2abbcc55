"""Every sweep the scheduler enqueues runs clean, on the engine the suite runs on (SQLite here,
PostgreSQL under tools/run_tests.py), with something for it to do, and does it.

Each sweep is run the way the worker runs it (its task, with the arguments the scheduler gives:
none), after data is arranged that it must act on. A sweep added to the scheduler without a
scenario here fails `test_every_scheduled_sweep_has_a_scenario`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from refill.ops.scheduler import default_jobs
from tests.factories import card_token, esim_batch_iccid, make_customer, make_line, make_market, make_plan, renew
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)

Check = Callable[[object], None]
SCENARIOS: dict[str, Callable[..., Check]] = {}
NEEDS_SMDP = {
    "esim_orders_resume",
    "esim_pool_fill",
    "esim_profiles_follow_lines",
    "esim_unpaid_lines_release",
    "esim_waiting_lines_deliver",
}


def scenario(name: str):
    def register(build):
        SCENARIOS[name] = build
        return build

    return register


def world():
    market = make_market()
    plan = make_plan(market, "sweep-30", price="25.00")
    customer, user = make_customer()
    return market, plan, customer, make_line(customer, market, plan)


def run_queued(task_path: str) -> int:
    """Run, here and now, the tasks of ``task_path`` a sweep put in the queue (what a worker does)."""
    ran = 0
    for queued in DBTaskResult.objects.filter(task_path=task_path, status="READY").order_by("enqueued_at"):
        queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=queued.pk).update(status="SUCCESSFUL")
        ran += 1
    return ran


@scenario("worker_heartbeat")
def _heartbeat(**_) -> Check:
    from refill.ops.models import Heartbeat

    Heartbeat.objects.create(name="worker", at=timezone.now() - timedelta(hours=1))

    def check(result):
        assert Heartbeat.objects.get(name="worker").at > timezone.now() - timedelta(minutes=1)

    return check


@scenario("lapse_sweep")
def _lapse(**_) -> Check:
    from refill.lines.models import Line

    _, plan, _, line = world()
    renew(line, plan)
    Line.objects.filter(pk=line.pk).update(period_end=timezone.now() - timedelta(minutes=1))

    def check(result):
        assert result >= 1 and Line.objects.get(pk=line.pk).status == "grace"

    return check


@scenario("number_receipts")
def _receipts(**_) -> Check:
    from django.db.models import F

    from refill.orders.models import Receipt, ReceiptSeries

    _, plan, _, line = world()
    order, _ = renew(line, plan)
    receipt = Receipt.objects.get(order=order)
    number = receipt.number
    # The process that took the payment died before numbering its receipt.
    Receipt.objects.filter(pk=receipt.pk).update(number=None)
    ReceiptSeries.objects.filter(code=receipt.series_id).update(next_number=F("next_number") - 1)

    def check(result):
        assert result == 1 and Receipt.objects.get(pk=receipt.pk).number == number

    return check


@scenario("reconcile_payments")
def _reconcile(**_) -> Check:
    from refill.orders.checkout import order_create_renewal
    from refill.orders.models import Order
    from refill.orders.paying import order_pay_card
    from refill.payments.models import Payment

    _, plan, customer, line = world()
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="lost")
    gateway, token = card_token("4000000000000341")  # charged, then the answer is lost
    payment = order_pay_card(order=order, token=token, gateway=gateway)
    assert payment.status == "unknown"

    def check(result):
        assert result == 1
        assert Payment.objects.get(pk=payment.pk).status == "succeeded"
        assert Order.objects.get(pk=order.pk).status == "paid"

    return check


@scenario("autorenew_sweep")
def _autorenew(time_machine, **_) -> Check:
    from refill.integrations.payments.base import CardDetails
    from refill.integrations.payments.sandbox import SandboxGateway
    from refill.lines.models import Line
    from refill.payments.services import method_add
    from refill.renewals.autorenew import autorenew_update
    from refill.renewals.models import RenewalAttempt

    _, plan, customer, line = world()
    renew(line, plan)
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 3, cvc="123")
    method_add(customer=customer, gateway=SandboxGateway(), card=card)
    autorenew_update(line=line, actor=None, enabled=True)
    line.refresh_from_db()
    end = line.period_end
    # Due a day before the end: run the sweep then (sms quiet hours do not matter here).
    time_machine.move_to(end - timedelta(hours=23), tick=False)

    def check(result):
        assert result["ran"] == 1
        assert RenewalAttempt.objects.get(line=line).status == "succeeded"
        assert Line.objects.get(pk=line.pk).period_end == end + timedelta(days=30)

    return check


@scenario("release_stale_redemptions")
def _redemptions(**_) -> Check:
    from refill.orders.checkout import order_create_renewal
    from refill.orders.payable import ORDER_PAYABLE_FOR
    from refill.promotions.models import Redemption
    from tests.factories import make_promotion

    market, plan, customer, line = world()
    make_promotion(market, code="SWEEP", limit_total=5, starts_at=timezone.now() - timedelta(days=3))
    order_create_renewal(
        customer=customer,
        line=line,
        plan=plan,
        periods=1,
        idempotency_key="abandoned",
        promotion_code="SWEEP",
        now=timezone.now() - ORDER_PAYABLE_FOR - timedelta(hours=1),
    )
    held = Redemption.objects.get(status="held")

    def check(result):
        assert result >= 1 and Redemption.objects.get(pk=held.pk).status != "held"

    return check


@scenario("deliver_notices")
def _deliver(**_) -> Check:
    from refill.notifications.models import Notification

    _, _, customer, line = world()
    waiting = Notification.objects.create(
        rule="expiry",
        subject_key="sweep",
        channel="email",
        customer=customer,
        line=line,
        language="en",
        recipient=customer.email_address(),
        subject="Your plan ends soon",
        body="Renew it.",
        send_after=timezone.now() - timedelta(minutes=1),
    )

    def check(result):
        assert result >= 1 and Notification.objects.get(pk=waiting.pk).status == "sent"

    return check


@scenario("reminders")
def _reminders(**_) -> Check:
    from refill.lines.models import Line
    from refill.notifications.models import Notification

    _, plan, _, line = world()
    renew(line, plan)
    Line.objects.filter(pk=line.pk).update(period_end=timezone.now() + timedelta(days=2))

    def check(result):
        assert result >= 1 and Notification.objects.filter(line=line, rule__startswith="expiry").exists()

    return check


@scenario("reap_stuck_tasks")
def _reap(**_) -> Check:
    from refill.ops.tasks import worker_heartbeat

    stuck = worker_heartbeat.enqueue()
    DBTaskResult.objects.filter(pk=stuck.id).update(status="RUNNING", started_at=timezone.now() - timedelta(hours=2))

    def check(result):
        assert result == 1 and DBTaskResult.objects.get(pk=stuck.id).status == "READY"

    return check


@scenario("card_expiry_reminders")
def _card_expiry(time_machine, **_) -> Check:
    from refill.integrations.payments.base import CardDetails
    from refill.integrations.payments.sandbox import SandboxGateway
    from refill.notifications.models import Notification
    from refill.payments.services import method_add

    # A card saved in March that expires at the end of April; on April 1st its reminder is due.
    time_machine.move_to(datetime(2030, 3, 10, 17, 0, tzinfo=UTC), tick=False)
    _, _, customer, _ = world()
    card = CardDetails(number="4242424242424242", exp_month=4, exp_year=2030, cvc="123")
    method_add(customer=customer, gateway=SandboxGateway(), card=card)
    time_machine.move_to(datetime(2030, 4, 1, 17, 0, tzinfo=UTC), tick=False)

    def check(result):
        assert result == 1 and Notification.objects.filter(customer=customer, rule__contains="card").exists()

    return check


@scenario("expire_vouchers")
def _vouchers(**_) -> Check:
    from refill.vouchers.models import Voucher
    from refill.vouchers.services import voucher_batch_generate

    voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    Voucher.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    def check(result):
        assert result == 1 and Voucher.objects.get().state == "expired"

    return check


def esim_stock(sim, batch: int, count: int) -> None:
    from refill.esim.inventory import inventory_import

    iccids = [esim_batch_iccid(batch, n) for n in range(1, count + 1)]
    rows = "\n".join(f"{iccid},{23415000000900 + n},consumer" for n, iccid in enumerate(iccids))
    inventory_import(file_name="stock.csv", content=f"iccid,imsi,profile_type\n{rows}\n".encode())
    sim.add_profiles(*iccids)


@scenario("esim_orders_resume")
def _esim_resume(sim, **_) -> Check:
    from refill.esim import services
    from refill.esim.models import EsimOrder
    from refill.integrations.esim import es2plus

    esim_stock(sim, 7, 2)
    _, _, _, line = world()
    sim.fault("confirmOrder", "http500", times=2)
    with pytest.raises(es2plus.SmdpUnavailable):
        services.esim_for_new_line(line=line, profile_type="consumer")
    EsimOrder.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    def check(result):
        assert result == 1 and EsimOrder.objects.get(line=line).status == "released"

    return check


@scenario("esim_pool_fill")
def _esim_pool(sim, settings, **_) -> Check:
    from refill.esim.models import EsimOrder

    settings.REFILL_SMDP = {**settings.REFILL_SMDP, "POOL_LOW_WATER": 2}
    esim_stock(sim, 7, 3)

    def check(result):
        assert result == 2 and EsimOrder.objects.filter(reason="pool", status="released").count() == 2

    return check


@scenario("esim_profiles_follow_lines")
def _esim_follow(sim, **_) -> Check:
    from refill.esim import services
    from refill.esim.models import Profile

    esim_stock(sim, 7, 1)
    _, _, _, line = world()
    services.esim_for_new_line(line=line, profile_type="consumer")
    type(line).objects.filter(pk=line.pk).update(status="suspended")

    def check(result):
        assert result == 1 and Profile.objects.get(line=line).network_state == "barred"

    return check


@scenario("esim_unpaid_lines_release")
def _esim_unpaid(sim, **_) -> Check:
    from refill.esim import services
    from refill.lines.models import Line, PoolNumber

    esim_stock(sim, 7, 1)
    market, plan, customer, _ = world()
    PoolNumber.objects.create(msisdn="+12025550191", market=market, status="available", available_since=timezone.now())
    line = services.esim_line_open(customer=customer, market=market, plan=plan, msisdn="+12025550191")
    Line.objects.filter(pk=line.pk).update(created_at=timezone.now() - timedelta(hours=25))

    def check(result):
        assert result == 1
        assert Line.objects.get(pk=line.pk).status == "available"
        assert PoolNumber.objects.get(msisdn="+12025550191").status == "available"

    return check


@scenario("esim_waiting_lines_deliver")
def _esim_waiting(sim, **_) -> Check:
    from refill.esim.models import EsimOrder, NewLineWait
    from refill.esim.newlines import esim_wait_record

    _, plan, _, line = world()
    renew(line, plan)
    # Paid for while no profile was in stock; stock has arrived since.
    wait = esim_wait_record(line=line, reason="no_profile_in_stock")
    esim_stock(sim, 7, 1)

    def check(result):
        assert result == 1 and NewLineWait.objects.get(pk=wait.pk).status == "delivered"
        assert EsimOrder.objects.get(line=line).status == "released"

    return check


@scenario("idempotency_records_sweep")
def _idempotency(**_) -> Check:
    import time

    from refill.api.models import IdempotencyRecord, RateWindow

    old = IdempotencyRecord.objects.create(owner="ip:127.0.0.1", key="k", method="POST", path="/api/v1/orders",
                                           fingerprint="0" * 64)  # fmt: skip
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    RateWindow.objects.create(caller="ip:127.0.0.1", window_start=int(time.time()) - 7200, count=3)

    def check(result):
        assert result == 2
        assert not IdempotencyRecord.objects.exists() and not RateWindow.objects.exists()

    return check


@scenario("webhooks_deliver")
def _webhooks(settings, **_) -> Check:
    from refill.lines.services import lines_lapse_sweep
    from refill.webhooks.models import WebhookDelivery
    from refill.webhooks.outbox import endpoint_create

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers["Refill-Event-Id"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # an internal receiver the operator allowed
    endpoint_create(name="partner", url=f"http://127.0.0.1:{server.server_address[1]}/hooks",
                    events=["line.status_changed"], actor=None)  # fmt: skip
    _, plan, _, line = world()
    renew(line, plan)
    type(line).objects.filter(pk=line.pk).update(period_end=timezone.now() - timedelta(minutes=1))
    assert lines_lapse_sweep() == 1  # a lifecycle move the partner is told about

    def check(result):
        server.shutdown()
        # the line's moves (paid: active; period ended: grace), each told once
        assert result == len(seen) >= 1 and len(set(seen)) == len(seen)
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}

    return check


@scenario("bulk_jobs_resume")
def _bulk(**_) -> Check:
    from refill.customers.models import Customer
    from refill.fleets.models import BulkJob, FleetMember
    from refill.fleets.services import bulk_job_check, bulk_job_create, bulk_job_pay
    from refill.integrations.payments.base import CardDetails
    from refill.orders.paying import PayWith

    market, plan, customer, line = world()
    Customer.objects.filter(pk=customer.pk).update(kind="business")
    admin = customer.users.get()
    FleetMember.objects.create(user=admin, role="admin")
    renew(line, plan)
    job = bulk_job_create(customer=customer, user=admin, action="renew", numbers=[line.msisdn], plan=plan,
                          periods=1, idempotency_key="sweep")  # fmt: skip
    job = bulk_job_check(job_id=job.pk)
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 3, cvc="123")
    bulk_job_pay(job=job, user=admin, pay_with=PayWith(card=card))
    # The worker that was to apply the paid job died: its queued step is gone.
    DBTaskResult.objects.filter(task_path="refill.fleets.tasks.bulk_job_apply").delete()
    BulkJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert BulkJob.objects.get(pk=job.pk).status != BulkJob.Status.DONE

    def check(result):
        assert result == 1
        assert run_queued("refill.fleets.tasks.bulk_job_apply") == 1
        assert BulkJob.objects.get(pk=job.pk).status == BulkJob.Status.DONE

    return check


@scenario("events_sweep")
def _events_sweep(settings, time_machine, **_) -> Check:
    from refill.events.models import Delivery

    # The queue's delivery of a paid order's event was lost (its worker died): the confirmation is
    # owed and only the sweep sends it on its way.
    settings.REFILL_EVENTS_TASK_BACKEND = "default"
    market, plan, customer, line = world()
    time_machine.move_to(datetime(2026, 3, 10, 12, 20, 5, tzinfo=UTC), tick=False)
    order, _ = renew(line, plan)
    DBTaskResult.objects.filter(task_path="refill.events.tasks.deliver_events").delete()
    time_machine.move_to(datetime(2026, 3, 10, 12, 25, 5, tzinfo=UTC), tick=False)
    # The confirmation's and, the line being a new eSIM line, its profile's.
    assert Delivery.objects.filter(event__payload__order_id=order.pk, status="pending").count() == 2

    def check(result):
        assert result == 2
        assert not Delivery.objects.filter(status="pending").exists()
        assert run_queued("refill.notifications.tasks.send_order_confirmations") == 1

    return check


@scenario("events_prune")
def _events_prune(settings, time_machine, **_) -> Check:
    from refill.events.models import Delivery, Event

    # A paid order's events, handled, 31 days ago; one still owed to a handler; one from yesterday.
    settings.REFILL_EVENTS_KEEP_DAYS = 30
    market, plan, customer, line = world()
    time_machine.move_to(datetime(2026, 2, 7, 12, 0, tzinfo=UTC), tick=False)
    old, _ = renew(line, plan)
    owed = Event.objects.create(kind="order.paid", payload={"order_id": 0})
    Delivery.objects.create(event=owed, handler="refill.notifications.handlers.on_order_paid")
    time_machine.move_to(datetime(2026, 3, 9, 12, 0, tzinfo=UTC), tick=False)
    recent, _ = renew(line, plan)
    time_machine.move_to(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False)

    def check(result):
        assert result == 1
        assert not Event.objects.filter(payload__order_id=old.pk).exists()
        assert Event.objects.filter(pk=owed.pk).exists() and Event.objects.filter(payload__order_id=recent.pk).exists()

    return check


def test_every_scheduled_sweep_has_a_scenario():
    assert {job.name for job in default_jobs()} == set(SCENARIOS)


@pytest.fixture
def smdp(request):
    if request.node.callspec.params["name"] not in NEEDS_SMDP:
        yield None
        return
    live_server = request.getfixturevalue("live_server")
    settings = request.getfixturevalue("settings")
    with simulator_for(live_server, settings, "--accept-unknown", RETRIES=1, TIMEOUT=5) as simulator:
        yield simulator


@pytest.mark.parametrize("name", [job.name for job in default_jobs()])
def test_the_scheduled_sweep_does_its_work(name, smdp, settings, mailoutbox, time_machine):
    job = next(job for job in default_jobs() if job.name == name)
    check = SCENARIOS[name](sim=smdp, settings=settings, time_machine=time_machine)
    result = import_string(job.task_path).call()
    check(result)
    # Run again, it finds nothing left that it must do and still runs clean.
    import_string(job.task_path).call()
