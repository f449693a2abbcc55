"""Renewal checkout throughput: quote + order + sandbox charge + grant + receipt, end to end
through the same services the portal calls, one renewal at a time per process.

    .venv/bin/python bench/checkout.py                   # SQLite (a temp file), 2,000 renewals
    .venv/bin/python bench/checkout.py --engine postgres # a throwaway PostgreSQL 15 cluster
    .venv/bin/python bench/checkout.py --renewals 50     # smoke run

Prints progress lines, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "tools")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renewals", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--latency-ms", type=int, default=0, help="sandbox provider latency")
    args = parser.parse_args()

    cluster = None
    workdir = tempfile.mkdtemp(prefix="refill-bench-")
    os.environ["REFILL_VAR_DIR"] = workdir
    os.environ["DJANGO_SETTINGS_MODULE"] = "refill.config.settings.dev"
    os.environ.pop("DATABASE_URL", None)
    if args.engine == "postgres":
        from pgcluster import PgCluster

        cluster = PgCluster()
        os.environ["DATABASE_URL"] = cluster.start()
    try:
        run(args)
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", "--noinput", verbosity=0)
    from stdnum import luhn

    from refill.catalog.models import Market, Plan, PlanPrice
    from refill.customers.models import Customer
    from refill.integrations.payments.base import CardDetails
    from refill.integrations.payments.sandbox import SandboxGateway
    from refill.lines.models import Line
    from refill.orders.checkout import order_create_renewal
    from refill.orders.paying import order_pay_card

    market = Market.objects.create(code="us", name="US", region="US", currency="USD", time_zone="America/New_York")
    plan = Plan.objects.create(
        code="daily",
        market=market,
        kind="base",
        name_en="Day",
        name_zh_hans="日",
        validity_kind="days",
        validity_count=1,
        data_mb=1024,
        voice_minutes=100,
        sms=100,
        max_prepaid_periods=10_000,
    )
    PlanPrice.objects.create(
        plan=plan, version=1, currency="USD", amount="1.50", valid_from=datetime(2000, 1, 1, tzinfo=UTC)
    )
    lines = []
    for index in range(args.lines):
        customer = Customer.objects.create(display_name=f"bench {index}")
        body = f"8901410{index:011d}"
        lines.append(
            Line.objects.create(
                msisdn=f"+1202{2000000 + index}",
                iccid=body + luhn.calc_check_digit(body),
                sim_type="esim",
                owner=customer,
                market=market,
                plan=plan,
            )
        )
    gateway = SandboxGateway(latency_ms=args.latency_ms)
    token = gateway.tokenize(CardDetails("4242424242424242", 12, 2039, "123"))
    durations = []
    statements = 0
    started = time.perf_counter()
    for index in range(args.renewals):
        line = lines[index % len(lines)]
        begin = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            order = order_create_renewal(
                customer=line.owner, line=line, plan=plan, periods=1, idempotency_key=f"bench-{index}"
            )
            order_pay_card(order=order, token=token, gateway=gateway)
        statements += len(queries)
        durations.append(time.perf_counter() - begin)
        reset_queries()
        if (index + 1) % max(args.renewals // 5, 1) == 0:
            print(f"{index + 1} renewals, {(index + 1) / (time.perf_counter() - started):.0f}/s", flush=True)
    elapsed = time.perf_counter() - started
    durations.sort()
    result = {
        "benchmark": "checkout",
        "engine": args.engine,
        "renewals": args.renewals,
        "lines": args.lines,
        "latency_ms": args.latency_ms,
        "renewals_per_s": round(args.renewals / elapsed, 1),
        "p50_ms": round(statistics.median(durations) * 1000, 2),
        "p99_ms": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1000, 2),
        "sql_per_renewal": round(statements / args.renewals, 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
