"""Every CSV file Refill writes keeps a cell a spreadsheet would run as a formula as text (issue 24
item 5): one writer (refill.ops.safetext.csv_writer) for every download and the demo's PIN files;
hostile cells starting with =, +, -, @, a tab or a carriage return, in English and Chinese text."""

import csv
import io
import re
from pathlib import Path

import pytest

import refill
from refill.audit.models import AuditEvent
from refill.audit.services import audit_record
from refill.backoffice.audit_views import _audit_csv
from refill.fleets.services import bulk_job_check, bulk_job_create
from refill.ops.safetext import csv_cell, csv_writer
from tests.factories import login
from tests.integration.fleets.conftest import Fleet

pytestmark = pytest.mark.django_db

HOSTILE = {
    "en": ["=1+2", "@SUM(1+1)", '=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3",
           "\t=1+2", "\r=1+2"],
    "zh-hans": ["=1+2", "@求和(1+1)", '=HYPERLINK("http://evil.example","点这里")', "+号码|' /C calc'!A0", "-余额+3",
                "\t=一加二", "\r=一加二"],
}  # fmt: skip


def rows_of(content: bytes | str) -> list[list[str]]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_writer_keeps_every_formula_as_text_and_plain_numbers_as_they_are(language):
    buffer = io.StringIO()
    plain = ["+12025550100", "-5.00", "+1 202 555 0100", "10", "新号码", ""]
    csv_writer(buffer).writerow([*HOSTILE[language], *plain, -5, 3.5])
    [row] = rows_of(buffer.getvalue())
    hostile, kept = row[: len(HOSTILE[language])], row[len(HOSTILE[language]) :]
    assert hostile == ["'" + cell for cell in HOSTILE[language]]
    assert kept == [*plain, "-5", "3.5"]
    assert csv_cell(None) is None and csv_cell(7) == 7


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_fleet_job_result_keeps_typed_formulas_as_text(client, language):
    fleet = Fleet(2)
    good = fleet.lines[0].msisdn
    numbers = [good, *HOSTILE[language]]
    job = bulk_job_create(
        customer=fleet.customer, user=fleet.admin, action="renew", numbers=numbers, idempotency_key=f"csv-{language}",
        language=language,
    )  # fmt: skip
    bulk_job_check(job_id=job.pk)
    login(client, fleet.admin)
    response = client.get(f"/fleet/jobs/{job.pk}/result.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = rows_of(response.content)
    by_number = [row[header.index("number")] for row in rows]
    assert by_number == [good, *("'" + cell[:32] for cell in HOSTILE[language])]  # stored up to 32 characters
    for row in rows:
        assert all(not cell or cell[0] not in "=+-@\t\r" or cell == good for cell in row), row
    reasons = [row[header.index("reason")] for row in rows[1:]]
    assert all(reasons) and (language == "en" or all(re.search("[\u4e00-\u9fff]", r) for r in reasons))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_audit_log_csv_keeps_formulas_as_text(language):
    fleet = Fleet(1)
    for hostile in HOSTILE[language]:
        audit_record(actor=None, action="test.hostile", obj=fleet.customer, reason=hostile, data={"note": hostile})
    header, *rows = rows_of(_audit_csv(AuditEvent.objects.all()).content)
    reasons = [row[header.index("reason")] for row in rows if row[header.index("action")] == "test.hostile"]
    assert sorted(reasons) == sorted("'" + cell for cell in HOSTILE[language])


def test_no_csv_is_written_but_by_the_shared_writer():
    """A new CSV download or file must use refill.ops.safetext (csv_writer / csv_response)."""
    root = Path(refill.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "safetext.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bcsv\.(writer|DictWriter)\(", line)
    ]
    assert offenders == []
