"""Limits of support requests, each overridable in the settings: attachments (how many, how big,
which kinds, judged from the bytes, under which name), how many new requests one address, account
or contact email may send, and how many replies one ticket and one address may take, per hour."""

from __future__ import annotations

import hashlib
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from refill.api.models import RateWindow
from refill.ops.bulk import counter_add

MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
REQUESTS_PER_HOUR = 5
REPLIES_PER_TICKET_PER_HOUR = 10
REPLIES_PER_IP_PER_HOUR = 30


def max_files() -> int:
    return int(getattr(settings, "REFILL_SUPPORT_MAX_FILES", MAX_FILES))


def max_file_bytes() -> int:
    return int(getattr(settings, "REFILL_SUPPORT_MAX_FILE_BYTES", MAX_FILE_BYTES))


def requests_per_hour() -> int:
    return int(getattr(settings, "REFILL_SUPPORT_REQUESTS_PER_HOUR", REQUESTS_PER_HOUR))


def replies_per_ticket_per_hour() -> int:
    return int(getattr(settings, "REFILL_SUPPORT_REPLIES_PER_TICKET_PER_HOUR", REPLIES_PER_TICKET_PER_HOUR))


def replies_per_ip_per_hour() -> int:
    return int(getattr(settings, "REFILL_SUPPORT_REPLIES_PER_IP_PER_HOUR", REPLIES_PER_IP_PER_HOUR))


# Attachments ------------------------------------------------------------------------------------

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF-", "application/pdf"),
)
# Plain text may hold tabs, line and page breaks, and any printable character; no other control byte.
_TEXT_CONTROLS = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f"} | {"\x7f"}


def sniff_content_type(head: bytes, whole) -> str | None:
    """The kind of a file from its bytes (PNG, JPEG, PDF or UTF-8 plain text), or None."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    data = b"".join(whole())
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ch in _TEXT_CONTROLS for ch in text):
        return None
    return "text/plain"


def safe_file_name(raw: str) -> str:
    """The name a file is listed and downloaded under: its last path part, without control or
    formatting characters (a line break would break the download's header; a right-to-left mark
    makes "exe.pdf" look like "fdp.exe"), at most 200 characters; "file" when nothing is left."""
    name = raw.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")[:200]
    return name or "file"


@dataclass(frozen=True)
class CheckedFile:
    upload: object  # the uploaded file
    name: str
    content_type: str
    size: int


def attachments_check(files: list) -> list[CheckedFile]:
    """The uploaded ``files`` if every one may be kept, else a ValidationError listing why not
    (translated). Nothing is stored here."""
    if len(files) > max_files():
        raise ValidationError(_("Attach at most %(count)s files.") % {"count": max_files()}, code="too_many_files")
    checked, errors = [], []
    limit_mb = max_file_bytes() / (1024 * 1024)
    for upload in files:
        name = safe_file_name(getattr(upload, "name", "") or "")
        if upload.size > max_file_bytes():
            errors.append(
                ValidationError(
                    _("%(name)s is larger than %(limit)s MB.") % {"name": name, "limit": f"{limit_mb:g}"},
                    code="file_too_large",
                )
            )
            continue
        if upload.size == 0:
            errors.append(ValidationError(_("%(name)s is empty.") % {"name": name}, code="file_empty"))
            continue
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        content_type = sniff_content_type(head, upload.chunks)
        upload.seek(0)
        if content_type is None:
            errors.append(
                ValidationError(
                    _("%(name)s is not a PNG or JPEG picture, a PDF or a plain text file.") % {"name": name},
                    code="file_type",
                )
            )
            continue
        checked.append(CheckedFile(upload=upload, name=name, content_type=content_type, size=upload.size))
    if errors:
        raise ValidationError(errors)
    return checked


# Rate limit -------------------------------------------------------------------------------------
# Counted in the API's shared request windows (``refill.api.models.RateWindow``, one upsert per
# count, pruned by the API's sweep once a window has ended): one row per key and clock hour.


def _window() -> int:
    now = int(time.time())
    return now - now % 3600


def _recipient(email: str) -> str:
    # An address as a key: hashed, so the key holds no personal data and no odd characters.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def rate_keys(*, ip: str | None, user_id: int | None, email: str = "") -> list[str]:
    keys = [f"support:new:ip:{ip or 'unknown'}"]
    if user_id:
        keys.append(f"support:new:user:{user_id}")
    if email:
        # Anyone may type anyone's address: each address is sent at most this many receipts an hour.
        keys.append(f"support:new:email:{_recipient(email)}")
    return keys


def _count(keys: list[str], limit: int) -> bool:
    """Count one more under each key in the current hour, in the database every process shares;
    False once any of them is over ``limit``. Counted before anything is stored."""
    window = _window()
    counts = [counter_add(RateWindow, {"caller": key, "window_start": window}, "count", 1) for key in keys]
    return all(count <= limit for count in counts)


def rate_allows(*, ip: str | None, user_id: int | None, email: str = "") -> bool:
    """One new request of this address (and account, and contact email) in the current hour."""
    return _count(rate_keys(ip=ip, user_id=user_id, email=email), requests_per_hour())


def reply_rate_allows(*, ip: str | None, ticket_id: int) -> bool:
    """One customer (or guest) reply from this address and on this ticket in the current hour:
    at most ``replies_per_ticket_per_hour`` on one ticket, ``replies_per_ip_per_hour`` from one
    address over every ticket."""
    on_ticket = _count([f"support:reply:ticket:{ticket_id}"], replies_per_ticket_per_hour())
    from_ip = _count([f"support:reply:ip:{ip or 'unknown'}"], replies_per_ip_per_hour())
    return on_ticket and from_ip
