"""No module of Refill's own code past about 600 lines (issue 27): a file that long holds more than
one concept, and its new logic belongs in the module that owns the concept (docs/architecture.md).
Migrations and demo data are left out: they are written once and read as data."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "refill"
LIMIT = 600


def _is_data(path: Path) -> bool:
    parts = path.relative_to(SRC).parts
    return "migrations" in parts or parts[0] == "demo" or "demo_articles" in parts or path.stem == "demo"


def test_no_module_is_longer_than_the_limit():
    long = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if not _is_data(path) and (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert long == {}
