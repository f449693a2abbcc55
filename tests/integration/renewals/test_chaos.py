"""Chaos on PostgreSQL: four task workers and two schedulers renew a few thousand lines while
workers are killed (SIGKILL) 30 times at random moments and replaced. The kills must hit work in
flight (a task the victim was running) and that work must be recovered: the reaper put it back in
the queue and another worker finished it. Afterwards every line has exactly what it should: renewed
once (one paid order, one period, one charge at the provider, one capture entry, one success SMS)
or, if its card declined or its charge was cut off by a kill before reaching the provider, nothing
charged, one failure notice and a retry scheduled; never two of anything."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from refill.lines.models import Line
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.payments.models import Payment, SandboxCharge
from refill.renewals.models import RenewalAttempt
from refill.subscriptions.models import Period
from tests.factories import make_market, make_plan
from tests.seeding import seed_autorenew_lines

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]
REPO = Path(__file__).resolve().parents[3]
RUNNER = REPO / "tests" / "chaos_runner.py"
LINES = int(os.environ.get("REFILL_CHAOS_LINES", "2000"))
# Card outcomes by token (sandbox): most pay, some decline, some are charged but the answer is lost.
TOKENS = ["tok_sandbox_success_x"] * 8 + ["tok_sandbox_insufficient_funds_x", "tok_sandbox_timeout_charged_x"]
KILLS = 30  # at seeded random intervals of 0.5-2 s: about 40 s of chaos


def seed(count: int):
    market = make_market()
    plan = make_plan(market, "us-30day", price="5.00")
    end = timezone.now() + timedelta(hours=1)
    return seed_autorenew_lines(market=market, plan=plan, count=count, end=end, tokens=TOKENS), end


def spawn(role: str, env: dict, log: Path, worker_id: str = "") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(RUNNER), connection.settings_dict["NAME"], role, *([worker_id] if worker_id else [])],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def unsettled() -> list[str]:
    """What is still open (empty when everything has settled)."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    open_attempts = RenewalAttempt.objects.filter(Q(status="running") | Q(status="due", due_at__lte=now))
    open_payments = Payment.objects.filter(status__in=["pending", "unknown", "requires_action"])
    unfulfilled = Order.objects.filter(payments__status="succeeded").exclude(status="paid")
    busy = DBTaskResult.objects.filter(status="RUNNING")
    found = []
    for name, rows, fields in (
        ("attempts", open_attempts, ("pk", "status", "number", "started_at", "order_id")),
        ("payments", open_payments, ("pk", "status", "created_at", "next_check_at", "reconcile_attempts")),
        ("unfulfilled orders", unfulfilled, ("pk", "status")),
        ("running tasks", busy, ("task_path", "started_at")),
    ):
        if rows.exists():
            found.append(f"{rows.count()} {name}, e.g. {list(rows.values_list(*fields)[:3])}")
    return found


def settled() -> bool:
    return not unsettled()


def test_killed_workers_leave_every_line_renewed_once_or_not_at_all(tmp_path):
    from django_tasks_db.models import DBTaskResult

    if connection.vendor != "postgresql":
        pytest.skip("the chaos test needs PostgreSQL (row locks shared by several machines)")
    lines, end = seed(LINES)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "REFILL_SCHEDULE_SCALE": "0.05",  # the auto-renew sweep every 3 s instead of every minute
        "REFILL_TASK_STUCK_AFTER": "6",
        "REFILL_AUTORENEW_STUCK_AFTER": "6",
        "REFILL_STALE_PENDING_AFTER": "4",
        "REFILL_AUTORENEW_THREADS": "4",
    }
    log = tmp_path / "processes.log"
    spawned = iter(range(10**6))
    ids = [f"chaos-{next(spawned)}" for _ in range(4)]
    workers = [spawn("worker", env, log, worker_id) for worker_id in ids]
    schedulers = [spawn("scheduler", env, log) for _ in range(2)]  # the scheduler, twice
    rng = random.Random(5)
    kills = 0
    cut_off: set = set()  # the tasks a killed worker was running at the moment it was killed
    deadline = time.monotonic() + 420
    try:
        while kills < KILLS:
            time.sleep(rng.uniform(0.5, 2.0))
            victim = rng.randrange(len(workers))
            running = DBTaskResult.objects.filter(status="RUNNING", worker_ids__contains=[ids[victim]])
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            # What it was running when the signal arrived (read after the kill, so nothing finished since).
            cut_off |= set(running.values_list("pk", flat=True))
            ids[victim] = f"chaos-{next(spawned)}"
            workers[victim] = spawn("worker", env, log, ids[victim])
            kills += 1
        while time.monotonic() < deadline and not settled():
            time.sleep(1)
    finally:
        # Stop the schedulers first and let the workers finish what is queued, so that stopping
        # them does not itself leave a task running (that would be this test's doing, not theirs).
        for process in schedulers:
            process.send_signal(signal.SIGKILL)
            process.wait()
        drained_by = time.monotonic() + 60
        while time.monotonic() < drained_by and DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
            time.sleep(0.2)
        for process in workers:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert kills == KILLS
    left = unsettled()
    assert not left, f"not settled in time: {left}; see {log}"
    # The kills hit work in flight, and that work was recovered: the reaper put each task back in
    # the queue (its returns count them) and another worker ran it to the end.
    assert cut_off, "no kill hit a running task: the chaos proved nothing about recovery"
    reaped = sum(
        DBTaskResult.objects.filter(task_path="refill.ops.tasks.reap_stuck_tasks", status="SUCCESSFUL")
        .exclude(return_value=None)
        .values_list("return_value", flat=True)
    )
    assert reaped > 0
    for task in DBTaskResult.objects.filter(pk__in=cut_off):
        assert task.status == "SUCCESSFUL" and len(task.worker_ids) >= 2, (task.task_path, task.status, task.worker_ids)

    periods = dict(Period.objects.values("line_id").annotate(n=Count("pk")).values_list("line_id", "n"))
    paid = dict(
        Order.objects.filter(status="paid").values("line_id").annotate(n=Count("pk")).values_list("line_id", "n")
    )
    charged_payments = set(Payment.objects.filter(status="succeeded").values_list("idempotency_key", flat=True))
    provider_charged = set(SandboxCharge.objects.filter(status="succeeded").values_list("idempotency_key", flat=True))
    # The provider charged exactly the payments Refill recorded as succeeded: nothing lost, nothing twice.
    assert provider_charged == charged_payments
    renewed = 0
    for line in Line.objects.select_related("auto_renew"):
        n = periods.get(line.pk, 0)
        assert n <= 1 and paid.get(line.pk, 0) == n, f"line {line.pk}: {n} periods, {paid.get(line.pk)} paid orders"
        first = RenewalAttempt.objects.filter(line=line, number=1).get()
        success_sms = Notification.objects.filter(line=line, rule="autorenew_succeeded").count()
        failure_notices = Notification.objects.filter(line=line, rule="autorenew_failed").count()
        if n == 1:
            renewed += 1
            assert line.period_end == end + timedelta(days=30)
            assert first.status == "succeeded" and success_sms == 1 and failure_notices == 0
        else:
            assert line.period_end == end
            assert first.status == "failed" and first.reason in ("insufficient_funds", "network_error")
            assert failure_notices == 1 and success_sms == 0
            retry = RenewalAttempt.objects.get(line=line, number=2)
            assert retry.status == "due" and retry.due_at > timezone.now()
    # Exact, no tolerance: every declining card failed; every other line renewed, unless a kill cut
    # its charge off before it reached the provider (its attempt failed with network_error, and the
    # provider holds no charge for it; the books check above proves that nothing was charged). A
    # declining line's charge can be cut off too: it then fails with network_error, not a decline.
    declines = "tok_sandbox_insufficient_funds_x"
    declining = set(Line.objects.filter(owner__payment_methods__token=declines).values_list("pk", flat=True))
    assert len(declining) == sum(1 for n in range(LINES) if TOKENS[n % len(TOKENS)] == declines)
    reasons = dict(RenewalAttempt.objects.filter(number=1).values_list("line_id", "reason"))
    failed = {pk for pk in reasons if periods.get(pk, 0) == 0}
    cut = {pk for pk in failed if reasons[pk] == "network_error"}
    assert failed - cut == declining - cut
    assert all(reasons[pk] == "insufficient_funds" for pk in declining - cut)
    assert renewed == LINES - len(declining | cut)
    print(f"chaos: {LINES} lines, {kills} kills, {len(cut_off)} tasks cut off, {reaped} reaped, {renewed} renewed")
