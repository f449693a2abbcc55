"""A business's bulk renewal on PostgreSQL: N lines of one business checked and priced (one order
each), paid with one card charge, then renewed from the wallet, timed step by step as the worker
runs them (the same service functions its tasks call).

    .venv/bin/python bench/bulk_jobs.py --lines 5000     # what docs/benchmarks.md records
    .venv/bin/python bench/bulk_jobs.py --lines 50       # smoke run (CI)

Prints progress lines, then one JSON object as the last line with check_lines_per_s,
apply_lines_per_s and total_s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "tools")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    from pgcluster import PgCluster

    workdir = tempfile.mkdtemp(prefix="refill-bench-")
    os.environ.update(REFILL_VAR_DIR=workdir, DJANGO_SETTINGS_MODULE="refill.config.settings.dev")
    cluster = PgCluster()
    os.environ["DATABASE_URL"] = cluster.start()
    try:
        run(args)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", "--noinput", verbosity=0)
    from tests.seeding import _iccid

    from refill.catalog.models import Market, Plan, PlanPrice
    from refill.customers.models import Customer, User
    from refill.fleets.apply import bulk_job_apply
    from refill.fleets.models import BulkJob, FleetMember
    from refill.fleets.services import bulk_job_check, bulk_job_create, bulk_job_pay
    from refill.integrations.payments.base import CardDetails
    from refill.lines.models import Line
    from refill.orders.paying import PayWith

    market = Market.objects.create(code="us", name="US", region="US", currency="USD", time_zone="America/New_York")
    plan = Plan.objects.create(
        code="iot-30", market=market, kind="base", name_en="IoT 30 days", name_zh_hans="物联网30天",
        validity_kind="days", validity_count=30, data_mb=1024, voice_minutes=0, sms=10,
    )  # fmt: skip
    PlanPrice.objects.create(
        plan=plan, version=1, currency="USD", amount="3.00", valid_from=datetime(2000, 1, 1, tzinfo=UTC)
    )
    business = Customer.objects.create(kind="business", display_name="Bench Logistics", notify_email=False)
    admin = User.objects.create_user("bench@example.com", "x-pass-12345", customer=business)
    FleetMember.objects.create(user=admin, role="admin")
    end = timezone.now() + timedelta(days=3)
    lines = Line.objects.bulk_create(
        Line(msisdn=f"+1212{3000000 + n:07d}", iccid=_iccid(n), sim_type="esim", owner=business, market=market,
             plan=plan, status="active", period_end=end)
        for n in range(args.lines)
    )  # fmt: skip
    print(f"seeded {args.lines} lines", flush=True)

    started = time.perf_counter()
    job = bulk_job_create(
        customer=business, user=admin, action="renew", numbers=[line.msisdn for line in lines], idempotency_key="bench"
    )
    with CaptureQueriesContext(connection) as check_queries:
        job = bulk_job_check(job_id=job.pk)
    checked = time.perf_counter()
    print(f"checked: {job.status}, total {job.total} in {checked - started:.2f} s", flush=True)
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2039, cvc="123")
    payment = bulk_job_pay(job=job, user=admin, pay_with=PayWith(card=card))
    paid = time.perf_counter()
    with CaptureQueriesContext(connection) as apply_queries:
        job = bulk_job_apply(job_id=job.pk)
    applied = time.perf_counter()
    done = job.lines.filter(status="done").count()
    print(f"applied: {job.status}, {done} renewed, invoice {job.invoice_number} in {applied - paid:.2f} s", flush=True)
    assert job.status == BulkJob.Status.DONE and done == args.lines and payment.status == "succeeded"
    result = {
        "benchmark": "bulk_jobs",
        "engine": "postgres",
        "lines": args.lines,
        "check_s": round(checked - started, 2),
        "pay_s": round(paid - checked, 2),
        "apply_s": round(applied - paid, 2),
        "total_s": round(applied - started, 2),
        "check_lines_per_s": round(args.lines / (checked - started), 1),
        "apply_lines_per_s": round(args.lines / (applied - paid), 1),
        "sql_per_line_check": round(len(check_queries) / args.lines, 2),
        "sql_per_line_apply": round(len(apply_queries) / args.lines, 2),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
