"""Race real OS processes against the test database.

``race(tmp_path, "tests.some.module:function", [kwargs, ...])`` starts one process per kwargs
dict. Each sets Django up on the test database the calling test uses, waits at a common barrier,
calls the function with its kwargs at the same instant as the others, and reports what it returned
(JSON) or the domain error code it raised. The test then checks the database.
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
    return results
