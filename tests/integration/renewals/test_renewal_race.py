"""Concurrency: real OS processes renew one line at the same moment, on SQLite and on PostgreSQL.

Each racer (race_worker.py) is a separate Python process with its own Django and its own database
connection to the test database, so the only thing that keeps the result right is what Refill
does in the database (IMMEDIATE transactions on SQLite, row locks on PostgreSQL, the unique
constraints). The sandbox gateway keeps its books in the database (SandboxCharge), as a remote
provider would: each test compares them with the payments Refill recorded as succeeded. The racers'
windows (entered and left the services, recorded by each worker) must overlap, or the run proved
nothing about concurrency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.domain.periods import add_days
from refill.orders.models import Order, Receipt
from refill.payments.models import Payment, SandboxCharge
from refill.subscriptions.models import Bucket, Period
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.race import assert_overlapped, assert_provider_books_match

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("race_worker.py")
RACERS = 4
READY_TIMEOUT = 60.0  # Django setup in 4 fresh interpreters on a busy 2-CPU machine
RACE_TIMEOUT = 30.0  # from the start signal until every racer has exited
START_DELAY = 0.3  # the start instant is this far after the last racer said it is ready
# 0: the racers collide on the order insert and on payment_start. 150 ms: the provider call
# is slow, so the others run payment_start while a charge is in flight (pending payment).
LATENCIES = [pytest.param(0, id="instant-provider"), pytest.param(150, id="slow-provider")]


@pytest.fixture
def setup():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    return market, plan, customer, line


def _race(tmp_path: Path, *, customer, line, plan, keys: list[str], latency_ms: int) -> list[dict]:
    """Start one worker process per key, release them together, return their outcomes."""
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "refill.config.settings.test",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    procs = []
    for index, key in enumerate(keys):
        payload = {
            # pytest-django has switched the connection to the test database already.
            "db_name": str(connection.settings_dict["NAME"]),
            "vendor": connection.vendor,
            "customer": customer.pk,
            "line": line.pk,
            "plan": plan.pk,
            "key": key,
            "index": index,
            "barrier": str(barrier),
            "latency_ms": latency_ms,
        }
        out = (tmp_path / f"worker-{index}.out").open("w")
        err = (tmp_path / f"worker-{index}.err").open("w")
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, str(WORKER), json.dumps(payload)], cwd=REPO, env=env, stdout=out, stderr=err
                ),
                out,
                err,
            )
        )

    def report() -> str:
        parts = []
        for index, (proc, _, _) in enumerate(procs):
            stdout = (tmp_path / f"worker-{index}.out").read_text()
            stderr = (tmp_path / f"worker-{index}.err").read_text()
            parts.append(f"--- worker {index} (exit {proc.returncode}) stdout:\n{stdout}--- stderr:\n{stderr}")
        return "\n".join(parts)

    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while len(list(barrier.glob("ready-*"))) < len(keys):
            if any(proc.poll() is not None for proc, _, _ in procs):
                time.sleep(0.2)  # let the others finish their output, then show everything
                pytest.fail(f"a worker exited before the start signal\n{report()}")
            if time.monotonic() > deadline:
                pytest.fail(f"workers not ready after {READY_TIMEOUT}s\n{report()}")
            time.sleep(0.01)
        staged = barrier / "go.tmp"
        staged.write_text(repr(time.time() + START_DELAY))
        staged.replace(barrier / "go")  # appears atomically, with its content

        deadline = time.monotonic() + START_DELAY + RACE_TIMEOUT
        for proc, _, _ in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pytest.fail(f"worker {proc.pid} still running after {RACE_TIMEOUT}s\n{report()}")
    finally:
        for proc, out, err in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            out.close()
            err.close()

    assert all(proc.returncode == 0 for proc, _, _ in procs), report()
    results = []
    for index in range(len(keys)):
        lines = (tmp_path / f"worker-{index}.out").read_text().strip().splitlines()
        assert lines, report()
        results.append(json.loads(lines[-1]))
    assert_overlapped(results)  # every racer was in the services before the first one returned
    return results


def _assert_contiguous(periods: list[Period], zone) -> None:
    starts = [p.start for p in periods]
    assert len(set(starts)) == len(starts)
    for period in periods:
        assert period.end == add_days(period.start, 30, zone)
    for earlier, later in zip(periods, periods[1:], strict=False):
        assert earlier.end == later.start, "gap or overlap between periods"


@pytest.mark.parametrize("latency_ms", LATENCIES)
def test_same_idempotency_key_buys_once(setup, tmp_path, latency_ms):
    market, plan, customer, line = setup
    before = timezone.now()
    results = _race(
        tmp_path, customer=customer, line=line, plan=plan, keys=["same-key"] * RACERS, latency_ms=latency_ms
    )
    after = timezone.now()

    order = Order.objects.get()  # exactly one order
    assert order.status == Order.Status.PAID
    assert {r["order"] for r in results} == {order.pk}, results
    # every racer got the one order back and either saw it paid or was told a payment is running
    assert {r["outcome"] for r in results} <= {"paid", "payment_in_progress"}, results
    payment = Payment.objects.get()  # exactly one charge attempt, and it succeeded
    assert payment.order_id == order.pk and payment.status == Payment.Status.SUCCEEDED
    assert [r["payment"] for r in results if r["outcome"] == "paid"].count(payment.pk) >= 1, results

    period = Period.objects.get(line=line)
    assert before <= period.start <= after
    assert period.order_item.order_id == order.pk
    line.refresh_from_db()
    assert line.status == "active"
    assert line.period_end == period.end == add_days(period.start, 30, market.zone)
    receipt = Receipt.objects.get()
    assert (receipt.order_id, receipt.number) == (order.pk, 1)
    assert Bucket.objects.filter(line=line).count() == 3
    assert AuditEvent.objects.filter(action="order.create").count() == 1
    assert AuditEvent.objects.filter(action="order.paid").count() == 1
    # The provider charged once, under the one payment Refill recorded.
    assert SandboxCharge.objects.filter(status="succeeded").count() == 1
    assert_provider_books_match()


@pytest.mark.parametrize("latency_ms", LATENCIES)
def test_different_keys_stack_contiguous_periods(setup, tmp_path, latency_ms):
    market, plan, customer, line = setup
    before = timezone.now()
    keys = [f"key-{index}" for index in range(RACERS)]
    results = _race(tmp_path, customer=customer, line=line, plan=plan, keys=keys, latency_ms=latency_ms)
    after = timezone.now()

    assert [r["outcome"] for r in results] == ["paid"] * RACERS, results
    orders = list(Order.objects.order_by("pk"))
    assert len(orders) == RACERS
    assert {o.idempotency_key for o in orders} == set(keys)
    assert {r["order"] for r in results} == {o.pk for o in orders}
    assert all(o.status == Order.Status.PAID for o in orders)
    payments = list(Payment.objects.all())
    assert len(payments) == RACERS  # no extra attempts
    assert all(p.status == Payment.Status.SUCCEEDED for p in payments)
    assert sorted(p.order_id for p in payments) == [o.pk for o in orders]  # one charge per order

    periods = list(Period.objects.filter(line=line).order_by("start"))
    assert len(periods) == RACERS
    assert sorted(p.order_item.order_id for p in periods) == [o.pk for o in orders]
    assert before <= periods[0].start <= after
    _assert_contiguous(periods, market.zone)
    line.refresh_from_db()
    assert line.status == "active"
    assert line.period_end == periods[-1].end

    receipts = list(Receipt.objects.order_by("number"))
    assert len({r.series_id for r in receipts}) == 1
    assert [r.number for r in receipts] == list(range(1, RACERS + 1))  # gap-free, one each
    assert sorted(r.order_id for r in receipts) == [o.pk for o in orders]
    assert Bucket.objects.filter(line=line).count() == 3 * RACERS
    assert SandboxCharge.objects.filter(status="succeeded").count() == RACERS  # one charge per order
    assert_provider_books_match()
