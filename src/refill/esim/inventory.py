"""Importing SIM vendor batches into the eSIM profile inventory."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refill.audit.services import audit_record
from refill.domain.identifiers import InvalidIdentifier, normalize_iccid, normalize_imsi
from refill.errors import RefillError
from refill.ops.bulk import bulk_insert, unsaved
from refill.ops.safetext import clean_text

from .models import NewLineWait, Profile, ProfileBatch
from .tasks import esim_waiting_lines_deliver

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Header names vendors use for each column (compared in lower case, spaces and underscores removed).
_COLUMNS = {
    "iccid": {"iccid", "iccidnumber", "simserial"},
    "imsi": {"imsi"},
    "profile_type": {"profiletype", "type", "profile"},
}


class ImportRefused(RefillError):
    code = "import_refused"
    message = gettext_lazy("This file cannot be imported: %(why)s")


@dataclass(frozen=True)
class _Row:
    number: int
    iccid: str
    imsi: str
    profile_type: str


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(why=_("it is not UTF-8 text.")) from None


def _columns(header: list[str]) -> dict[str, int]:
    names = [re.sub(r"[\s_-]+", "", cell).lower() for cell in header]
    found = {}
    for column, accepted in _COLUMNS.items():
        matches = [index for index, name in enumerate(names) if name in accepted]
        if len(matches) != 1:
            raise ImportRefused(why=_("the first row must name one ICCID, one IMSI and one profile type column."))
        found[column] = matches[0]
    return found


def _read(text: str) -> tuple[list[_Row], list[dict]]:
    """Valid rows and the rejected ones (with their row number as a spreadsheet shows it)."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRefused(why=_("it is empty.")) from None
    columns = _columns(header)
    rows, rejected, seen_iccid, seen_imsi = [], [], {}, {}
    try:
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if number > MAX_ROWS + 1:
                raise ImportRefused(why=_("it has more than %(max)s rows.") % {"max": f"{MAX_ROWS:,}"})
            errors = []
            # Control characters are dropped as the cell is read: a NUL would otherwise reach the
            # batch's report of rejected rows, which PostgreSQL cannot store in JSON.
            value = {
                name: clean_text(cells[index]).strip() if index < len(cells) else "" for name, index in columns.items()
            }
            try:
                iccid = normalize_iccid(value["iccid"])
            except InvalidIdentifier as exc:
                iccid = value["iccid"][:22]
                errors.append(_iccid_error(exc))
            try:
                imsi = normalize_imsi(value["imsi"])
            except InvalidIdentifier:
                imsi = value["imsi"][:16]
                errors.append(_("The IMSI must have 14 or 15 digits."))
            if not _TYPE.match(value["profile_type"]):
                errors.append(_("The profile type must be 1 to 64 letters, digits, dots, dashes or underscores."))
            if not errors and iccid in seen_iccid:
                errors.append(_("This ICCID is already on row %(row)s.") % {"row": seen_iccid[iccid]})
            if not errors and imsi in seen_imsi:
                errors.append(_("This IMSI is already on row %(row)s.") % {"row": seen_imsi[imsi]})
            if errors:
                rejected.append({"row": number, "iccid": iccid, "errors": errors})
                continue
            seen_iccid[iccid], seen_imsi[imsi] = number, number
            rows.append(_Row(number, iccid, imsi, value["profile_type"]))
    except csv.Error as exc:
        raise ImportRefused(why=_("it is not a valid CSV file (row %(row)s).") % {"row": reader.line_num}) from exc
    return rows, rejected


def _iccid_error(exc: InvalidIdentifier) -> str:
    text = str(exc)
    if "starts with" in text:
        return _("An ICCID starts with 89.")
    if "check digit" in text:
        return _("The ICCID's check digit is wrong.")
    return _("An ICCID has 18 to 20 digits (a trailing F is dropped).")


def inventory_import(*, file_name: str, content: bytes, vendor: str = "", actor=None) -> ProfileBatch:
    """Import a vendor CSV (columns ICCID, IMSI and profile type, in any order, comma, semicolon
    or tab separated). Valid rows become available profiles; each invalid row is reported with why;
    rows already in the inventory with the same IMSI and type are counted as known. The same file
    imported again returns its first batch and changes nothing. Refuses (ImportRefused) a file that
    is too big, not UTF-8 CSV, or without the three columns, and then writes nothing."""
    if len(content) > MAX_BYTES:
        raise ImportRefused(why=_("it is bigger than %(max)s MB.") % {"max": MAX_BYTES // (1024 * 1024)})
    digest = hashlib.sha256(content).hexdigest()
    known = ProfileBatch.objects.filter(sha256=digest).first()
    if known:
        return known
    rows, rejected = _read(_decode(content))
    try:
        with transaction.atomic():
            batch = ProfileBatch.objects.create(
                file_name=clean_text(file_name)[:200],
                sha256=digest,
                vendor=clean_text(vendor)[:100],
                imported_by=_staff(actor),
            )
            existing = {
                profile.iccid: profile
                for profile in Profile.objects.filter(iccid__in=[row.iccid for row in rows]).only(
                    "iccid", "imsi", "profile_type"
                )
            }
            imsi_owner = dict(Profile.objects.filter(imsi__in=[row.imsi for row in rows]).values_list("imsi", "iccid"))
            new, same = [], 0
            for row in rows:
                old = existing.get(row.iccid)
                if old is not None and (old.imsi, old.profile_type) == (row.imsi, row.profile_type):
                    same += 1
                elif old is not None:
                    rejected.append(
                        {
                            "row": row.number,
                            "iccid": row.iccid,
                            "errors": [_("This ICCID is already in the inventory with another IMSI or type.")],
                        }
                    )
                elif row.imsi in imsi_owner:
                    rejected.append(
                        {
                            "row": row.number,
                            "iccid": row.iccid,
                            "errors": [
                                _("This IMSI already belongs to ICCID %(iccid)s.") % {"iccid": imsi_owner[row.imsi]}
                            ],
                        }
                    )
                else:
                    new.append(
                        unsaved(Profile, iccid=row.iccid, imsi=row.imsi, profile_type=row.profile_type, batch=batch)
                    )
            bulk_insert(new)
            rejected.sort(key=lambda entry: entry["row"])
            batch.rows = len({r.number for r in rows} | {entry["row"] for entry in rejected})
            batch.imported, batch.already_known, batch.rejected = len(new), same, rejected
            batch.save(update_fields=["rows", "imported", "already_known", "rejected"])
            if new:
                # Paid new lines waiting for a profile get theirs now, not at the next sweep.
                transaction.on_commit(_deliver_waiting)
            audit_record(
                actor=actor,
                action="esim.inventory_import",
                obj=batch,
                data={"file": batch.file_name, "imported": len(new), "known": same, "rejected": len(rejected)},
            )
    except IntegrityError:
        # Imported at the same moment by someone else (same file, or the same profiles).
        known = ProfileBatch.objects.filter(sha256=digest).first()
        if known:
            return known
        raise ImportRefused(why=_("another import took some of its profiles at the same time; try again.")) from None
    return batch


def _deliver_waiting() -> None:
    if NewLineWait.objects.filter(status=NewLineWait.Status.WAITING).exists():
        esim_waiting_lines_deliver.enqueue()


def _staff(actor):
    return actor if getattr(actor, "is_staff", False) else None
