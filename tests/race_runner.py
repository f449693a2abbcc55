"""One racer process for tests/race.py (see there). Prints one JSON line."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    payload = json.loads(sys.argv[1])
    for path in (REPO, REPO / "src"):
        sys.path.insert(0, str(path))
    os.environ["DJANGO_SETTINGS_MODULE"] = "refill.config.settings.test"
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = payload["db_name"]  # the caller's test database
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    module_name, function_name = payload["target"].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    barrier = Path(payload["barrier"])
    (barrier / f"ready-{payload['index']}").write_text(str(os.getpid()))
    go = barrier / "go"
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no go signal")
        time.sleep(0.001)
    start_at = float(go.read_text())
    # Sleep to just before the common instant, then spin the last millisecond: several racers
    # spinning for long on a busy machine would take turns on the CPU and start apart.
    if start_at - time.time() > 0.001:
        time.sleep(start_at - time.time() - 0.001)
    while time.time() < start_at:
        pass
    started = time.time()
    try:
        result = {"ok": True, "value": function(**payload["kwargs"])}
    except Exception as exc:  # noqa: BLE001 - domain errors are results; anything else fails below
        code = getattr(exc, "code", None)
        if not isinstance(code, str):
            traceback.print_exc()
            return 1
        result = {"ok": False, "code": code}
    # The racer's window (wall clock, comparable between processes): tests/race.py checks that the
    # windows of all racers overlapped, i.e. every racer was in the function before any returned.
    result.update(started=started, finished=time.time(), pid=os.getpid())
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
