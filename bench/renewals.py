"""The auto-renew engine's throughput on PostgreSQL: N due auto-renew lines renewed by worker
processes against the sandbox gateway at 0 ms and at 50 ms provider latency, the lifecycle sweep
over N lapsed lines, and pgbench TPC-B on the same cluster in the same run for scale.

    .venv/bin/python bench/renewals.py                      # 100,000 lines (long)
    .venv/bin/python bench/renewals.py --lines 2000         # what docs/benchmarks.md records
    .venv/bin/python bench/renewals.py --lines 100 --quick  # smoke run (CI)

Each worker process loops over the engine's own sweep (schedule, run due attempts on its threads,
settle) until nothing is due, exactly what the scheduler's task does. Prints progress lines, then
one JSON object as the last line with at least renewals_per_s, renewals_per_s_50ms,
lifecycle_per_s and pgbench_tps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "tools")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=64, help="provider calls in flight per worker")
    parser.add_argument("--batch", type=int, default=500, help="attempts a worker claims at a time")
    parser.add_argument("--quick", action="store_true", help="skip pgbench (smoke runs)")
    parser.add_argument("--lifecycle-only", action="store_true", help="seed and run only the lifecycle sweep")
    parser.add_argument("--profile", help="write worker 0's cProfile statistics to this file")
    parser.add_argument(
        "--promotions", action="store_true", help="run two automatic offers (10%% off, 1 GB bonus) in each market"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run as one worker process
    args = parser.parse_args()
    if args.worker:
        if args.profile and args.worker.endswith("-0.json"):
            import cProfile

            return cProfile.runctx("worker(args.worker)", globals(), {"args": args}, args.profile)
        return worker(args.worker)

    from pgcluster import PgCluster

    workdir = tempfile.mkdtemp(prefix="refill-bench-")
    os.environ.update(
        REFILL_VAR_DIR=workdir, DJANGO_SETTINGS_MODULE="refill.config.settings.dev", REFILL_AUTORENEW_THREADS="1"
    )
    cluster = PgCluster()
    os.environ["DATABASE_URL"] = cluster.start()
    try:
        run(args, cluster)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, cluster) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", "--noinput", verbosity=0)
    from tests.seeding import seed_autorenew_lines

    from refill.catalog.models import Market, Plan, PlanPrice

    results: dict = {}
    for index, latency in enumerate((0, 50)):
        market = Market.objects.create(
            code=f"m{index}", name=f"Market {index}", region="US", currency="USD", time_zone="America/New_York"
        )
        plan = Plan.objects.create(
            code=f"p30-{index}", market=market, kind="base", name_en="30 days", name_zh_hans="30天",
            validity_kind="days", validity_count=30, data_mb=1024, voice_minutes=100, sms=100,
        )  # fmt: skip
        PlanPrice.objects.create(
            plan=plan, version=1, currency="USD", amount="5.00", valid_from=datetime(2000, 1, 1, tzinfo=UTC)
        )
        if args.promotions:
            _promotions(market, plan)
        started = time.perf_counter()
        seed_autorenew_lines(
            market=market, plan=plan, count=args.lines, end=timezone.now() + timedelta(hours=1), offset=index * 10**6
        )
        print(f"seeded {args.lines} lines in {time.perf_counter() - started:.1f} s", flush=True)
        if args.lifecycle_only:
            results[latency] = {"renewals_per_s": None, "p50_ms": None, "p99_ms": None, "sql_per_renewal": None}
            continue
        results[latency] = sweep_with_workers(args, latency)
        print(f"latency {latency} ms: {json.dumps(results[latency])}", flush=True)
    lifecycle = lifecycle_sweep(args.lines)
    print(f"lifecycle: {lifecycle:.0f} lines/s", flush=True)  # lines taken through their due steps
    tps = None if args.quick else pgbench(cluster)
    if tps is not None:
        print(f"pgbench TPC-B: {tps:.0f} tps", flush=True)
    result = {
        "benchmark": "renewals",
        "engine": "postgres",
        "lines": args.lines,
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "batch": args.batch,
        "renewals_per_s": results[0]["renewals_per_s"],
        "renewals_per_s_50ms": results[50]["renewals_per_s"],
        # how many of the lines were renewed at each latency, and what was left otherwise
        "renewed": results[0].get("renewed"),
        "renewed_50ms": results[50].get("renewed"),
        "not_renewed": results[0].get("not_renewed"),
        "not_renewed_50ms": results[50].get("not_renewed"),
        "p50_ms": results[0]["p50_ms"],
        "p99_ms": results[0]["p99_ms"],
        "p50_ms_50ms": results[50]["p50_ms"],
        "p99_ms_50ms": results[50]["p99_ms"],
        "sql_per_renewal": results[0]["sql_per_renewal"],
        "promotions": args.promotions,
        "lifecycle_per_s": round(lifecycle, 1),
        "pgbench_tps": round(tps, 1) if tps is not None else None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    print(json.dumps(result), flush=True)


def _promotions(market, plan) -> None:
    """Two automatic offers every renewal takes: 10 % off (with a budget, so each hold is the
    conditional UPDATE) and a 1 GB bonus (granted as a bucket)."""
    from django.utils import timezone

    from refill.promotions.models import Promotion

    common = dict(market=market, exclusive=False, starts_at=timezone.now() - timedelta(days=1))
    Promotion.objects.create(
        **common, name_en="10% off", name_zh_hans="九折", kind="percent_off", percent=10, budget=10**9, priority=10
    )
    bonus = Promotion.objects.create(
        **common, name_en="1 GB bonus", name_zh_hans="赠送 1 GB", kind="bonus_allowance", bonus_data_mb=1024
    )
    bonus.plans.add(plan)


def sweep_with_workers(args, latency: int) -> dict:
    from refill.renewals.models import RenewalAttempt

    out = Path(os.environ["REFILL_VAR_DIR"])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "REFILL_SANDBOX_LATENCY_MS": str(latency),
        "REFILL_AUTORENEW_THREADS": str(args.threads),
        "REFILL_PROVIDER_CONCURRENCY": str(args.threads),
        "REFILL_BENCH_BATCH": str(args.batch),
    }
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(out / f"worker-{latency}-{n}.json")]
            + (["--profile", f"{args.profile}.{latency}"] if args.profile else []),
            env=env,
        )
        for n in range(args.workers)
    ]
    for process in workers:
        process.wait()
    elapsed = time.perf_counter() - started
    durations, statements, renewed = [], 0, 0
    for n in range(args.workers):
        report = json.loads((out / f"worker-{latency}-{n}.json").read_text())
        durations += report["durations"]
        statements += report["statements"]
        renewed += report["ran"]
    market_code = f"m{0 if latency == 0 else 1}"
    succeeded = RenewalAttempt.objects.filter(status="succeeded", line__market__code=market_code)
    others = Counter(
        f"{status}:{reason}"
        for status, reason in RenewalAttempt.objects.filter(line__market__code=market_code)
        .exclude(status="succeeded")
        .values_list("status", "reason")
    )
    durations.sort()
    return {
        "renewed": succeeded.count(),
        "attempts_run": renewed,
        "seconds": round(elapsed, 2),
        "renewals_per_s": round(succeeded.count() / elapsed, 1),
        "p50_ms": round(statistics.median(durations) * 1000, 1) if durations else None,
        "p99_ms": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1000, 1)
        if durations
        else None,
        "sql_per_renewal": round(statements / max(renewed, 1), 1),
        "not_renewed": dict(others),  # attempts left otherwise (status:reason), should be none
    }


def worker(report_path: str) -> None:
    """One worker process: the engine's sweep until nothing is due; reports time per attempt."""
    import django

    django.setup()
    if os.environ.get("REFILL_BENCH_VERBOSE"):
        import logging

        logging.getLogger("refill.renewals.autorenew").setLevel(logging.DEBUG)
    from refill.renewals import autorenew

    durations: list[float] = []
    counted = [0]

    def args_batch() -> int:
        return int(os.environ.get("REFILL_BENCH_BATCH", "500"))

    # Every statement on every connection of this process (the charge threads' too, including the
    # sandbox provider's own two per charge), counted while a batch runs.
    from django.db.backends import utils

    counting = [0]
    for name in ("execute", "executemany"):
        original = getattr(utils.CursorWrapper, name)

        def counted_call(self, *a, _original=original, **kw):
            if counting[0]:
                counted[0] += 1
            return _original(self, *a, **kw)

        setattr(utils.CursorWrapper, name, counted_call)

    real = autorenew.autorenew_run_batch

    def timed(attempts, *, now):
        # Time per renewal: from the claimed batch's start to its attempts' settlement.
        begin = time.perf_counter()
        counting[0] += 1  # batches running (a worker runs several at once)
        try:
            real(attempts, now=now)
        finally:
            counting[0] -= 1
        durations.extend([time.perf_counter() - begin] * len(attempts))

    autorenew.autorenew_run_batch = timed
    ran = 0
    while True:
        autorenew.autorenew_schedule()
        done = autorenew.autorenew_run_due(batch=args_batch())
        ran += done
        if not done:
            break
    Path(report_path).write_text(json.dumps({"ran": ran, "durations": durations, "statements": counted[0]}))


def lifecycle_sweep(count: int) -> float:
    """Lines whose period ended long ago: one pass moves each through its due steps."""
    from django.db.models import F
    from django.utils import timezone

    from refill.lines.models import Line, LineStatusChange
    from refill.lines.services import lines_lapse_sweep

    Line.objects.filter(status="active").update(period_end=F("period_end") - timedelta(days=40))
    before = LineStatusChange.objects.count()
    started = time.perf_counter()
    lines_lapse_sweep(now=timezone.now())
    elapsed = time.perf_counter() - started
    moved = LineStatusChange.objects.count() - before
    lines = LineStatusChange.objects.order_by().values("line_id").distinct().count()
    print(f"lifecycle: {lines} lines moved ({moved} transitions) in {elapsed:.2f} s", flush=True)
    return lines / elapsed


def pgbench(cluster) -> float | None:
    """pgbench TPC-B (scale 10, 2 clients, 15 s) on the same cluster, in its own database."""
    from pgcluster import _bindir

    bindir = _bindir()
    binary = bindir / "pgbench"
    if not binary.exists():
        print("pgbench not found; skipped", flush=True)
        return None
    from django.db import connection

    settings = connection.settings_dict
    base = ["-h", str(settings["HOST"]), "-p", str(settings["PORT"]), "-U", settings["USER"]]
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    subprocess.run([str(bindir / "createdb"), *base, "pgbench"], check=True, env=env)
    subprocess.run([str(binary), *base, "-i", "-q", "-s", "10", "pgbench"], check=True, env=env, capture_output=True)
    run = subprocess.run(
        [str(binary), *base, "-c", "2", "-j", "2", "-T", "15", "pgbench"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    return float(match.group(1)) if match else None


if __name__ == "__main__":
    main()
