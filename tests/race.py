"""Race real OS processes against the test database.

``race(tmp_path, "tests.some.module:function", [kwargs, ...])`` starts one process per kwargs
dict. Each sets Django up on the test database the calling test uses, waits at a common barrier,
calls the function with its kwargs at the same instant as the others, and reports what it returned
(JSON) or the domain error code it raised, with the instants it entered and left the function.
``race`` then checks that the racers really ran at the same time: every racer had entered the
function before the first one returned (``assert_overlapped``). Results that would also hold had
the racers run one after another prove nothing about concurrency without that. The test then
checks the database, and in a money race the provider's own books (``assert_provider_books_match``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "race_runner.py"


def race(tmp_path: Path, target: str, calls: list[dict], *, timeout: float = 90) -> list[dict]:
    barrier = tmp_path / "barrier"
    barrier.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    processes = []
    for index, kwargs in enumerate(calls):
        payload = {
            "db_name": connection.settings_dict["NAME"],
            "target": target,
            "kwargs": kwargs,
            "barrier": str(barrier),
            "index": index,
        }
        out = open(tmp_path / f"out-{index}.txt", "w")
        err = open(tmp_path / f"err-{index}.txt", "w")
        processes.append(
            (
                subprocess.Popen(
                    [sys.executable, str(WORKER), json.dumps(payload)], cwd=REPO, env=env, stdout=out, stderr=err
                ),
                out,
                err,
            )
        )
    deadline = time.monotonic() + timeout
    while len(list(barrier.glob("ready-*"))) < len(calls):
        if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p, _, _ in processes):
            break
        time.sleep(0.02)
    staged = barrier / "go.tmp"
    staged.write_text(str(time.time() + 0.3))
    staged.replace(barrier / "go")  # appears atomically, with its content
    results = []
    for index, (process, out, err) in enumerate(processes):
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()
        err.close()
        stdout = (tmp_path / f"out-{index}.txt").read_text()
        stderr = (tmp_path / f"err-{index}.txt").read_text()
        assert process.returncode == 0, f"racer {index} failed ({process.returncode}):\n{stdout}\n{stderr}"
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    assert_overlapped(results)
    return results


def assert_overlapped(results: list[dict]) -> None:
    """Every racer entered its function before the first one left it: their windows (``started``,
    ``finished``, wall clock) share an instant, so the racers were all in flight at once."""
    assert len(results) >= 2, "a race needs two racers"
    windows = sorted((r["started"], r["finished"]) for r in results)
    assert max(start for start, _ in windows) < min(finish for _, finish in windows), (
        "the racers did not overlap (one returned before another started): "
        + ", ".join(f"{start:.4f}-{finish:.4f}" for start, finish in windows)
    )


def assert_provider_books_match() -> None:
    """The sandbox provider's own successful charges (SandboxCharge, its books) are exactly the card
    payments Refill recorded as succeeded, key for key: nothing charged twice or lost."""
    from refill.payments.models import Payment, SandboxCharge

    provider = sorted(SandboxCharge.objects.filter(status="succeeded").values_list("idempotency_key", flat=True))
    refill = sorted(
        Payment.objects.filter(status="succeeded", method=Payment.Method.CARD).values_list("idempotency_key", flat=True)
    )
    assert provider == refill, {"provider": provider, "refill": refill}
