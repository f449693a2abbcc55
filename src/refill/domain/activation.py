"""eSIM activation codes (GSMA SGP.22 section 4.1) and what a phone is shown to install one.

``LPA:1$<SM-DP+ address>$<Matching ID>`` with an optional ``$<SM-DP+ OID>`` and, when the SM-DP+
asks for a confirmation code, ``$1`` (with an empty OID field when there is no OID). The confirmation
code itself never goes into the activation code or its QR.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import quote

import segno

from .identifiers import InvalidIdentifier

PREFIX = "LPA:"
FORMAT = "1"  # AC_Format: the only one SGP.22 defines
IOS_INSTALL = "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MATCHING_ID = re.compile(r"^[0-9A-Z-]{1,255}$")
_OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")


def normalize_smdp_address(raw: str) -> str:
    """An SM-DP+ address is a fully qualified domain name (no scheme, port or path): two or more
    labels of letters, digits and inner hyphens, at most 253 characters. Returned in lower case."""
    value = (raw or "").strip().lower().rstrip(".")
    labels = value.split(".")
    if (
        not value
        or len(value) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # an IPv4 address is not a domain name
    ):
        raise InvalidIdentifier("invalid_smdp_address", f"{raw!r} is not a fully qualified domain name")
    return value


def normalize_matching_id(raw: str) -> str:
    value = (raw or "").strip()
    if not _MATCHING_ID.match(value):
        raise InvalidIdentifier("invalid_matching_id", "a matching ID has 1 to 255 of 0-9, A-Z and -")
    return value


@dataclass(frozen=True)
class ActivationCode:
    smdp_address: str
    matching_id: str
    oid: str = ""
    confirmation_code_required: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "smdp_address", normalize_smdp_address(self.smdp_address))
        object.__setattr__(self, "matching_id", normalize_matching_id(self.matching_id))
        if self.oid and not _OID.match(self.oid):
            raise InvalidIdentifier("invalid_activation_code", f"{self.oid!r} is not an object identifier")

    def __str__(self) -> str:
        fields = [PREFIX + FORMAT, self.smdp_address, self.matching_id]
        if self.oid or self.confirmation_code_required:
            fields.append(self.oid)
        if self.confirmation_code_required:
            fields.append("1")
        return "$".join(fields)

    @property
    def ios_install_link(self) -> str:
        """The link that installs the profile with one tap on an iPhone (iOS 17.4 and later); the
        code goes URL-encoded."""
        return IOS_INSTALL + quote(str(self), safe="")

    @property
    def masked(self) -> str:
        """For logs and support screens: the matching ID's last four characters only."""
        return f"{PREFIX}{FORMAT}${self.smdp_address}$…{self.matching_id[-4:]}"


def parse_activation_code(text: str) -> ActivationCode:
    """Read an activation code as scanned (``LPA:1$…``) or pasted without its prefix (``1$…``)."""
    value = (text or "").strip()
    if value[: len(PREFIX)].upper() == PREFIX:
        value = value[len(PREFIX) :]  # the QR's prefix; the code itself starts at the format
    # Fields after the fifth are SGP.22 v3 additions this version does not use.
    fields = value.split("$")[:5]
    if fields[0] != FORMAT or len(fields) < 3:
        raise InvalidIdentifier("invalid_activation_code", "an activation code is LPA:1$address$matching ID")
    oid = fields[3] if len(fields) > 3 else ""
    flag = fields[4] if len(fields) > 4 else ""
    if flag not in ("", "1"):
        raise InvalidIdentifier("invalid_activation_code", "the confirmation code flag can only be 1")
    return ActivationCode(fields[1], fields[2], oid, flag == "1")


def qr_png(code: ActivationCode, *, scale: int = 8) -> bytes:
    """The activation code as a QR code PNG (error correction M, a quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(str(code), error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(code: ActivationCode, *, scale: int = 6, title: str = "") -> str:
    """The activation code as an inline SVG QR code (no XML declaration), for pages."""
    buffer = io.BytesIO()
    segno.make(str(code), error="m", micro=False).save(
        buffer, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title=title or None, svgclass="qr"
    )
    return buffer.getvalue().decode()
