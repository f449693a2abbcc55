"""Benchmarks run in CI only as quick smoke runs: they start, work, and print their JSON line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def figures_of(script: str, *args: str, timeout: int = 600) -> dict:
    """Run ``bench/<script>`` with ``args``; the figures of its last line, once it succeeded."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_checkout_benchmark_smoke():
    figures = figures_of("checkout.py", "--renewals", "20", "--lines", "5", timeout=300)
    assert figures["renewals"] == 20 and figures["renewals_per_s"] > 0 and figures["sql_per_renewal"] > 0


def test_renewals_benchmark_smoke():
    """Needs PostgreSQL's server binaries (the benchmark starts its own throwaway cluster)."""
    figures = figures_of("renewals.py", "--lines", "20", "--threads", "2", "--quick")
    assert figures["lines"] == 20 and figures["renewals_per_s"] > 0 and figures["renewals_per_s_50ms"] > 0
    # every line renewed, at both latencies: a rate over 0 would hold if one of the 20 did
    assert (figures["renewed"], figures["renewed_50ms"]) == (20, 20), figures
    assert figures["not_renewed"] == {} and figures["not_renewed_50ms"] == {}, figures
    assert figures["lifecycle_per_s"] > 0 and figures["sql_per_renewal"] > 0


def test_usage_ingest_benchmark_smoke():
    """Needs PostgreSQL's server binaries (the benchmark starts its own throwaway cluster and web)."""
    figures = figures_of("usage_ingest.py", "--lines", "50", "--batches", "3", "--batch-size", "100", "--clients", "2")
    assert figures["records"] == 300 and figures["records_per_s"] > 0
    assert figures["records_stored"] == 302  # and one warm-up record per client


def test_api_lines_benchmark_smoke():
    """Needs PostgreSQL's server binaries (the benchmark starts its own throwaway cluster and web)."""
    figures = figures_of("api_lines.py", "--lines", "30", "--seconds", "1", "--clients", "1")
    assert figures["requests"] > 0 and figures["rps"] > 0 and figures["p99_ms"] > 0


def test_bulk_jobs_benchmark_smoke():
    """Needs PostgreSQL's server binaries (the benchmark starts its own throwaway cluster)."""
    figures = figures_of("bulk_jobs.py", "--lines", "50")
    assert figures["lines"] == 50 and figures["check_lines_per_s"] > 0 and figures["apply_lines_per_s"] > 0


# Drives Debian chromium (through Lighthouse), so it runs once, with the browser tests: the demo it
# measures has its own SQLite database whichever engine the suite runs on.
@pytest.mark.browser
def test_lighthouse_benchmark_smoke():
    """Needs Node and Lighthouse (scripts/bootstrap.sh test: `npm ci --prefix tools/node`) and Debian
    chromium. Scores are measured, not held here: the run must produce them for the page, and an
    accessibility or best-practices score below 100 is named in the output with its audits."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "lighthouse.py"), "--pages", "landing", "--languages", "en"]
        + ["--timeout", "120"],
        capture_output=True,
        text=True,
        timeout=360,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    [page] = figures["pages"]
    assert (page["page"], page["language"], page["path"]) == ("landing", "en", "/")
    for category in ("performance", "accessibility", "best-practices"):
        assert isinstance(page[category], int) and 0 <= page[category] <= 100, page
    for category in ("accessibility", "best-practices"):
        if page[category] < 100:
            # the failed audits are in the figures and in the printed report
            assert page["failed"][category], page
            assert any(line.startswith(f"below 100: landing en {category}") for line in lines), lines
