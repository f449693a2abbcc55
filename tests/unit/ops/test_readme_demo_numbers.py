"""The README's demo section gives a newcomer numbers to try "Refill any number" with, without
logging in: each is a line the demo seeds, in each market."""

import re
from pathlib import Path

from refill.domain.identifiers import normalize_msisdn

ROOT = Path(__file__).resolve().parents[3]


def _demo_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Demo logins", 1)[1].split("\n## ", 1)[0]


def _seeded_numbers() -> set[str]:
    seed = (ROOT / "src/refill/demo/seed.py").read_text()
    regions = {"us": "US", "cn": "CN"}
    found = re.findall(r'_line\(\s*\w+,\s*(us|cn),\s*[^,]+,\s*"([^"]+)"', seed)
    return {normalize_msisdn(number, regions[market]) for market, number in found}


def test_the_readme_names_demo_numbers_to_refill_without_logging_in():
    section = _demo_section()
    assert "Refill any number" in section and "/refill/" in section
    named = {normalize_msisdn(n.replace(" ", "")) for n in re.findall(r"`(\+\d[\d ]+\d)`", section)}
    assert {n[:3] for n in named} >= {"+12", "+86"}, "a number in each market"
    assert named <= _seeded_numbers(), named - _seeded_numbers()
