"""`make run` prints the demo logins: every login the README's table lists, with its password, so
a new user trying the demo needs neither the README nor a guess."""

import re
from pathlib import Path

from refill.ops.management.commands.up import DEMO_LOGINS

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_logins() -> set[tuple[str, str]]:
    text = README.read_text(encoding="utf-8").split("## Demo logins", 1)[1].split("\n\n", 2)[1]
    logins = set()
    for row in text.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        password = cells[-1].strip("`")
        for email in re.findall(r"`([^`]+@[^`]+)`", cells[-2]):
            logins.add((email, password))
    return logins


def test_the_banner_lists_every_demo_login_of_the_readme():
    readme = _readme_logins()
    assert len(readme) >= 9
    assert {(email, password) for _, email, password in DEMO_LOGINS} == readme
