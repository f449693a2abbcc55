"""The layers of docs/architecture.md are import-linter contracts in pyproject.toml (issue 27);
``make lint`` runs them. This test runs them too, so a breach fails the suite where it is made."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_contracts_are_configured():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert {contract["id"] for contract in config["contracts"]} >= {
        "domain-pure",
        "sales-layers",
        "faces-above-services",
        "catalog-knows-no-sales",
        "ledger-knows-no-causes",
        "payment-adapters-behind-port",
        "smdp-behind-esim",
    }


def test_every_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    # This tree's code, also where the venv's editable install points at another checkout (a worktree).
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
