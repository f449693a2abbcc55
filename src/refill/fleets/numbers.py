"""Numbers given for a bulk job (typed, pasted or in a CSV file) and the business's lines they
mean."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext_lazy as _

from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.lines.models import Line
from refill.ops.safetext import clean_text

from .errors import FleetRefused

MAX_CSV_BYTES = 512 * 1024
# Numbers a line of the business may not be found by: numbers given back or ported away.
RELEASED = ("available", "ported_out")


def numbers_from_csv(data: bytes) -> list[str]:
    """The numbers of an uploaded CSV file: the column headed number/msisdn/phone, else the first
    column; a header row and empty rows are skipped."""
    if len(data) > MAX_CSV_BYTES:
        raise FleetRefused(_("The file is too large (at most 512 KB)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FleetRefused(_("The file must be a CSV file in UTF-8.")) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise FleetRefused(_("The file must be a CSV file in UTF-8.")) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in ("number", "msisdn", "phone") if name in header), None)
    if column is not None:
        rows = rows[1:]
    else:
        column = 0
        if rows and not any(ch.isdigit() for ch in rows[0][0]):
            rows = rows[1:]  # a header with another name
    # Control characters (a NUL in "+1202\x00555") are dropped as the cell is read, never stored.
    cells = (clean_text(row[column]).strip() for row in rows if len(row) > column)
    return [cell for cell in cells if cell]


def numbers_from_text(text: str) -> list[str]:
    """Numbers typed or pasted: one per line, or separated by commas or semicolons."""
    parts = clean_text(text, multiline=True).replace(";", "\n").replace(",", "\n").splitlines()
    return [part.strip() for part in parts if part.strip()]


def fleet_lines(customer) -> tuple[dict[str, Line], list[str]]:
    """The business's lines by number, and the regions its numbers may be typed in."""
    lines = {
        line.msisdn: line
        for line in Line.objects.filter(owner=customer)
        .exclude(status__in=RELEASED)
        .select_related("market", "plan", "next_plan")
    }
    regions = sorted({line.market.region for line in lines.values() if line.market.region})
    return lines, regions


def find_line(raw: str, lines: dict[str, Line], regions: list[str]) -> tuple[Line | None, str]:
    """The line a typed number means, or why there is none."""
    candidates = []
    for region in [None, *regions]:
        try:
            candidates.append(normalize_msisdn(raw, region))
        except InvalidIdentifier:
            continue
    if not candidates:
        return None, _("This is not a valid phone number.")
    for number in candidates:
        if number in lines:
            return lines[number], ""
    return None, _("This number is not one of your lines.")
