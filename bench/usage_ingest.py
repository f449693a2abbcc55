"""POST /api/v1/usage-records throughput on PostgreSQL, over HTTP.

Seeds N active lines with data, voice and SMS buckets in a throwaway PostgreSQL 15 cluster (fsync
off), creates a network API key, starts the web process (granian, WSGI, --web-workers processes)
on loopback, then sends batches of 1,000 usage records (random lines and kinds, each record id new)
from --clients concurrent HTTP clients. The client runs on the same machine and is counted.
A client keeps its connection, and a connection stays with the web worker that accepted it: with
as few clients as workers, all of them now and then land on one worker while the other idles (we
saw such runs at half speed with the CPUs half idle), so the default is 8.
Prints records/s applied, p50/p99 per batch, and checks that the buckets took every record. Last
line: JSON with ``records_per_s``.

    .venv/bin/python bench/usage_ingest.py [--lines 20000] [--batches 300] [--clients 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "tools")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()

    with web_bench("usage") as (workdir, started):
        key, msisdns = seed(args.lines)
        port = _free_port()
        started.append(start_web(port, args.web_workers, workdir))
        result = send_all(port, key, msisdns, args)
        result.update(check())
        result.update(
            benchmark="usage_ingest", engine="postgres", lines=args.lines, batch_size=args.batch_size,
            clients=args.clients, web_workers=args.web_workers, python=platform.python_version(),
            cpus=os.cpu_count(), date=datetime.now(UTC).date().isoformat(),
        )  # fmt: skip
        print(json.dumps(result), flush=True)


@contextmanager
def web_bench(name: str):
    """A throwaway PostgreSQL cluster and work folder for a web benchmark; the web processes the
    caller appends to the yielded list are stopped at the end. The rate limiter counts every
    request (its statement is measured) but never refuses one here."""
    from pgcluster import PgCluster

    workdir = tempfile.mkdtemp(prefix=f"refill-bench-{name}-")
    os.environ.update(
        REFILL_VAR_DIR=workdir,
        DJANGO_SETTINGS_MODULE="refill.config.settings.dev",
        REFILL_API_RATE_PER_KEY="1000000000",
    )
    cluster = PgCluster()
    os.environ["DATABASE_URL"] = cluster.start()
    started: list[subprocess.Popen] = []
    try:
        yield workdir, started
    finally:
        for web in started:
            web.terminate()
            web.wait(timeout=20)
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def seed(count: int) -> tuple[str, list[str]]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from tests.seeding import seed_autorenew_lines

    from refill.apikeys.services import apikey_create
    from refill.catalog.models import Market, Plan
    from refill.subscriptions.models import Bucket

    market = Market.objects.create(code="m0", name="M", region="US", currency="USD", time_zone="America/New_York")
    plan = Plan.objects.create(
        code="p30", market=market, kind="base", name_en="30 days", name_zh_hans="30天", validity_kind="days",
        validity_count=30, data_mb=10**9, voice_minutes=10**9, sms=10**9,
    )  # fmt: skip
    started = time.perf_counter()
    now = datetime.now(UTC)
    lines = seed_autorenew_lines(market=market, plan=plan, count=count, end=now + timedelta(days=30))
    for start in range(0, len(lines), 5000):
        Bucket.objects.bulk_create(
            Bucket(
                line=line,
                kind=kind,
                granted=10**9,
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
                source="adjustment",
            )  # fmt: skip
            for line in lines[start : start + 5000]
            for kind in ("data", "voice", "sms")
        )
    _, key = apikey_create(name="bench network", kind="network", scopes=["usage:write"], actor=None)
    print(f"seeded {count} lines with buckets in {time.perf_counter() - started:.1f} s", flush=True)
    from django.db import connections

    connections.close_all()
    return key, [line.msisdn for line in lines]


def start_web(port: int, workers: int, workdir: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--blocking-threads", "1", "--no-ws", "refill.config.wsgi:application"],
        env=env, stdout=open(Path(workdir) / "web.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 503):
                return process
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the web process did not start: " + (Path(workdir) / "web.log").read_text()[-2000:])


def send_all(port: int, key: str, msisdns: list[str], args) -> dict:
    rng = random.Random(7)
    stamp = datetime.now(UTC).isoformat()
    kinds = ("data", "voice", "sms")
    batches = [
        json.dumps(
            {"records": [
                {"record_id": f"b{b}-r{r}", "msisdn": rng.choice(msisdns), "kind": kinds[r % 3],
                 "amount": 1 + r % 50, "timestamp": stamp}
                for r in range(args.batch_size)
            ]}
        ).encode()
        for b in range(args.batches)
    ]  # fmt: skip
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    # One warm-up batch per client: connections, imports and caches (not counted).
    warm = [json.dumps({"records": [{"record_id": f"warm{c}", "msisdn": msisdns[0], "kind": "sms", "amount": 1,
                                     "timestamp": stamp}]}).encode() for c in range(args.clients)]  # fmt: skip
    durations, failures, queue, lock = [], [], list(range(len(batches))), threading.Lock()

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.request("POST", "/api/v1/usage-records", body=warm[index], headers=headers)
        connection.getresponse().read()
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    return
                number = queue.pop()
            begin = time.perf_counter()
            connection.request("POST", "/api/v1/usage-records", body=batches[number], headers=headers)
            response = connection.getresponse()
            body = response.read()
            durations.append(time.perf_counter() - begin)
            if response.status != 200:
                failures.append((response.status, body[:200]))

    barrier = threading.Barrier(args.clients + 1)
    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} batches failed, first: {failures[0]}")
    records = args.batches * args.batch_size
    durations.sort()
    figures = {
        "records": records,
        "seconds": round(elapsed, 2),
        "records_per_s": round(records / elapsed, 1),
        "p50_batch_ms": round(statistics.median(durations) * 1000, 1),
        "p99_batch_ms": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1000, 1),
    }
    print(f"{records} records in {elapsed:.2f} s = {figures['records_per_s']:.0f} records/s", flush=True)
    return figures


def check() -> dict:
    """Every record is stored once and every unit is in a bucket (no overage: the buckets are big)."""
    from django.db.models import Sum

    from refill.subscriptions.models import Bucket, UsageRecord

    stored = UsageRecord.objects.aggregate(n=Sum("amount"))["n"] or 0
    used = Bucket.objects.aggregate(n=Sum("used"))["n"] or 0
    if stored != used:
        raise RuntimeError(f"records sum {stored} but buckets used {used}")
    return {"records_stored": UsageRecord.objects.count(), "units_applied": used}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()
