"""`make test`: the whole suite on SQLite, then the database suites again on a throwaway
PostgreSQL 15 cluster. In CI (CI=true) or with REFILL_REQUIRE_POSTGRES=1 a missing PostgreSQL is a
failure, never a skip. Extra arguments go to both pytest runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

from pgcluster import PgCluster  # noqa: E402

TOTALS = {"passed": 0, "failed": 0, "skipped": 0}
# The browser tests' step screenshots: the folder CI keeps as the run's artifact, with the JUnit
# reports beside it in var/.
SCREENSHOTS = REPO / "var" / "screenshots"


def screenshots_clear() -> None:
    """A whole run starts with an empty folder, so what it holds afterwards is this run's."""
    if SCREENSHOTS.is_dir():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()


def screenshots_report() -> None:
    count = len(list(SCREENSHOTS.glob("*.png"))) if SCREENSHOTS.is_dir() else 0
    print(f"screenshots: {count} in {SCREENSHOTS.relative_to(REPO)}/ (JUnit reports: var/junit-*.xml)", flush=True)


def pytest(args: list[str], env: dict[str, str], name: str) -> int:
    report = REPO / "var" / f"junit-{name}.xml"
    report.parent.mkdir(exist_ok=True)
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", f"--junitxml={report}", *args]
    print("\n$ " + " ".join(command), flush=True)
    status = subprocess.call(command, cwd=REPO, env=env)
    if report.exists():
        suite = ElementTree.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        tests, failures = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        TOTALS["passed"] += tests - failures - skipped
        TOTALS["failed"] += failures
        TOTALS["skipped"] += skipped
    elif status != 0:
        TOTALS["failed"] += 1
    return status


def demo_check(env: dict[str, str], name: str) -> int:
    """Migrate a fresh database, load the demo data and run `ledger_check` on it."""
    import tempfile

    print(f"\n== {name}: demo data + ledger_check ==", flush=True)
    env = {
        **env,
        "REFILL_VAR_DIR": tempfile.mkdtemp(prefix="refill-demo-"),
        "DJANGO_SETTINGS_MODULE": "refill.config.settings.dev",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    status = 0
    for command in (["migrate", "--noinput", "-v0"], ["demo_seed"], ["ledger_check"]):
        status = subprocess.call([*manage, *command], cwd=REPO, env=env)
        if status:
            break
    TOTALS["passed" if status == 0 else "failed"] += 1
    return status


def main() -> int:
    extra = sys.argv[1:]
    base_env = {**os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE": "true"}
    base_env.pop("DATABASE_URL", None)
    require_pg = os.environ.get("CI", "").lower() == "true" or os.environ.get("REFILL_REQUIRE_POSTGRES") == "1"
    base_env.pop("REFILL_REQUIRE_POSTGRES", None)

    if not extra:
        screenshots_clear()
    print("== SQLite: the whole suite ==", flush=True)
    sqlite_status = pytest(["-p", "no:cacheprovider", *extra], base_env, "sqlite")
    sqlite_status = demo_check(base_env, "SQLite") or sqlite_status

    print("\n== PostgreSQL 15: unit and database suites ==", flush=True)
    try:
        cluster = PgCluster()
        url = cluster.start()
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported the same way
        print(f"PostgreSQL could not be started: {exc}", flush=True)
        if require_pg:
            print("FAILED: PostgreSQL is required in CI.", flush=True)
            print(f"refill: {TOTALS['passed']} passed, {TOTALS['failed'] + 1} failed", flush=True)
            return 1
        print("SKIPPED the PostgreSQL run (set REFILL_REQUIRE_POSTGRES=1 to make this an error).", flush=True)
        screenshots_report()
        print(f"refill: {TOTALS['passed']} passed, {TOTALS['failed']} failed, {TOTALS['skipped']} skipped", flush=True)
        return sqlite_status
    try:
        pg_env = {**base_env, "DATABASE_URL": url, "REFILL_REQUIRE_POSTGRES": "1"}
        pg_status = pytest(["-p", "no:cacheprovider", "-m", "not browser", *extra], pg_env, "postgres")
        pg_status = demo_check(pg_env, "PostgreSQL") or pg_status
    finally:
        cluster.stop()
    print(
        f"\nSQLite run: {'passed' if sqlite_status == 0 else 'FAILED'}; "
        f"PostgreSQL run: {'passed' if pg_status == 0 else 'FAILED'}",
        flush=True,
    )
    screenshots_report()
    # One plain closing line over both runs.
    print(f"refill: {TOTALS['passed']} passed, {TOTALS['failed']} failed, {TOTALS['skipped']} skipped", flush=True)
    return sqlite_status or pg_status


if __name__ == "__main__":
    sys.exit(main())
