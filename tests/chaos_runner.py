"""A worker or scheduler process on the calling test's database (tests/integration/renewals/
test_chaos.py): ``python tests/chaos_runner.py <db name> worker|scheduler [worker id]``. A worker
runs under the id it is given, so the test knows which tasks the worker it kills was running."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    db_name, role = sys.argv[1], sys.argv[2]
    worker_id = sys.argv[3] if len(sys.argv) > 3 else None
    for path in (REPO, REPO / "src"):
        sys.path.insert(0, str(path))
    os.environ["DJANGO_SETTINGS_MODULE"] = "refill.config.settings.test"
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = db_name
    import django

    django.setup()
    if role == "scheduler":
        from refill.ops.scheduler import run_scheduler

        run_scheduler()
    else:
        from django.core.management import call_command

        options = ["--queue-name", "*", "--no-startup-delay", "--no-reload", "--interval", "0.1"]
        call_command("db_worker", *options, *(["--worker-id", worker_id] if worker_id else []))


if __name__ == "__main__":
    main()
