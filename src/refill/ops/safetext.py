"""Text at Refill's edges: what comes in is cleaned of control characters before it is stored, and
what goes out as CSV cannot run as a spreadsheet formula.

Coming in: a NUL byte cannot be stored by PostgreSQL (neither in text nor in JSON), and other
control characters only hide what a value really is (a number that looks right and is not). Every
importer cleans its cells with ``clean_text``, and so does a view that stores text posted outside
a form field; every form's text field already refuses a NUL (Django's CharField validator).

Going out: every CSV file Refill writes (downloads, the demo's PIN files) is written by
``csv_writer``, which keeps a cell a spreadsheet would read as a formula (``=…``, ``+…``, ``-…``,
``@…``, or a tab or carriage return first) as text by putting an apostrophe before it, as OWASP
recommends. A plain number stays as it is (a phone number in E.164 form, a negative amount).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

# C0 controls and DEL, and the C1 controls; tab, line feed and carriage return are handled apart.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` without control characters: removed, except that in ``multiline`` text tab, line
    feed and carriage return are kept; in one-line text they become a space."""
    if multiline:
        return _CONTROL.sub("", value)
    return _CONTROL.sub("", value).translate({0x09: " ", 0x0A: " ", 0x0D: " "})


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return bool((_CONTROL if multiline else _CONTROL_OR_BREAK).search(value))


# A plain number (a phone number as +1 202 555 0100, an amount as -5.00) runs nothing: kept as is.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 ]*(?:\.[0-9]+)?")


def csv_cell(value: Any) -> Any:
    """A cell as written: text a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every text cell goes through ``csv_cell``."""

    def __init__(self, stream, **options):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **options) -> SafeWriter:
    return SafeWriter(stream, **options)


def csv_response(filename: str) -> tuple[HttpResponse, SafeWriter]:
    """A CSV download (UTF-8, not cached) and the writer to fill it with."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response, csv_writer(response)
