"""``line.msisdn_display`` renders as a ``<span class="msisdn">`` in an HTML page's text (issue 26).
Where markup would show as text (plain-text emails and SMS, a page's <title>) or break the HTML
(an attribute), templates must use the plain ``|msisdn`` filter instead."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "refill" / "templates"


def test_no_template_puts_the_number_span_where_markup_does_not_belong():
    wrong = []
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file() or path.suffix not in {".txt", ".html"}:
            continue
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        if path.suffix == ".txt" and "msisdn_display" in text:
            wrong.append(f"{name}: plain text")
        for block in re.findall(r"{% block title %}(.*?){% endblock", text, re.S) + re.findall(
            r"<title>(.*?)</title>", text, re.S
        ):
            if "msisdn_display" in block:
                wrong.append(f"{name}: title")
        if re.search(r'[\w-]+="[^"<>]*msisdn_display[^"<>]*"', text):
            wrong.append(f"{name}: attribute")
    assert wrong == []
