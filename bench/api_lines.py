"""GET /api/v1/lines/{msisdn} throughput and latency on PostgreSQL, over HTTP.

Seeds N active lines with buckets (as bench/usage_ingest.py does) in a throwaway PostgreSQL 15
cluster, starts the web process (granian, WSGI, --web-workers processes), and reads random lines
with a partner key (scope ``read``) from --clients load-generating processes on the same machine,
for --seconds. The load generator is counted. Prints requests/s and p50/p99 latency. Last line:
JSON with ``rps`` and ``p99_ms``.

    .venv/bin/python bench/api_lines.py [--lines 20000] [--seconds 20] [--clients 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "tools"), str(REPO / "bench")]


def load(port: int, key: str, msisdns: list[str], seconds: float, start_at: float, out) -> None:
    """One load-generating process: one keep-alive connection, requests back to back. A lean HTTP/1.1
    client (requests prepared beforehand, answers read by Content-Length) so that the generator,
    which shares the two cores, takes as little of them as it can, as wrk would."""
    import socket

    rng = random.Random(os.getpid())
    prepared = [
        (f"GET /api/v1/lines/{msisdn} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n").encode()
        for msisdn in rng.sample(msisdns, min(len(msisdns), 5000))
    ]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies, errors, buffer = [], 0, b""
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    n = 0
    while time.time() < end:
        begin = time.perf_counter()
        sock.sendall(prepared[n % len(prepared)])
        n += 1
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        buffer = buffer[length:]
        latencies.append(time.perf_counter() - begin)
        if not head.startswith(b"HTTP/1.1 200"):
            errors += 1
    sock.close()
    out.put((latencies, errors))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()

    import usage_ingest

    with usage_ingest.web_bench("lines") as (workdir, started):
        _, msisdns = usage_ingest.seed(args.lines)
        from refill.apikeys.services import apikey_create

        _, key = apikey_create(name="bench reader", scopes=["read"], actor=None)
        port = usage_ingest._free_port()
        started.append(usage_ingest.start_web(port, args.web_workers, workdir))
        # Warm up every worker (imports, connections) before measuring.
        for _ in range(20 * args.web_workers):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", f"/api/v1/lines/{msisdns[0]}", headers={"Authorization": f"Bearer {key}"})
            assert connection.getresponse().status == 200
        out = multiprocessing.Queue()
        start_at = time.time() + 1
        workers = [
            multiprocessing.Process(target=load, args=(port, key, msisdns, args.seconds, start_at, out))
            for _ in range(args.clients)
        ]
        for worker in workers:
            worker.start()
        results = [out.get() for _ in workers]
        for worker in workers:
            worker.join()
        latencies = sorted(latency for part, _ in results for latency in part)
        errors = sum(errors for _, errors in results)
        if errors:
            raise RuntimeError(f"{errors} requests failed")
        figures = {
            "benchmark": "api_lines", "engine": "postgres", "lines": args.lines, "clients": args.clients,
            "web_workers": args.web_workers, "requests": len(latencies),
            "rps": round(len(latencies) / args.seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
            "python": platform.python_version(), "cpus": os.cpu_count(), "date": datetime.now(UTC).date().isoformat(),
        }  # fmt: skip
        print(f"{figures['requests']} requests in {args.seconds:.0f} s = {figures['rps']:.0f}/s, "
              f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms", flush=True)  # fmt: skip
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
