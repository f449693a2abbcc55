"""Identifier rules from domain.md: MSISDN (E.164), ICCID, EID, IMSI, IMEI."""

from __future__ import annotations

import re

import phonenumbers
from stdnum import luhn
from stdnum.iso7064 import mod_97_10


class InvalidIdentifier(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def normalize_msisdn(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of ``raw``; national formats are read in ``region`` (e.g. "US")."""
    text = (raw or "").strip()
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier("invalid_msisdn", f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidIdentifier("invalid_msisdn", f"{raw!r} is not a valid number for its country")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not E164.match(e164):
        raise InvalidIdentifier("invalid_msisdn", f"{raw!r} is not E.164")
    return e164


def format_msisdn(e164: str) -> str:
    """International display format, e.g. +1 202-555-0143 or +86 138 0013 8000."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def msisdn_region(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def normalize_iccid(raw: str) -> str:
    value = re.sub(r"\s+", "", raw or "").upper()
    if len(value) == 20 and value.endswith("F"):
        value = value[:-1]
    if not value.isdigit() or not 18 <= len(value) <= 20:
        raise InvalidIdentifier("invalid_iccid", "an ICCID has 18 to 20 digits")
    if not value.startswith("89"):
        raise InvalidIdentifier("invalid_iccid", "an ICCID starts with 89")
    if not luhn.is_valid(value):
        raise InvalidIdentifier("invalid_iccid", "the ICCID check digit is wrong")
    return value


def normalize_eid(raw: str) -> str:
    value = re.sub(r"\s+", "", raw or "")
    if len(value) != 32 or not value.isdigit() or not mod_97_10.is_valid(value):
        raise InvalidIdentifier("invalid_eid", "an EID has 32 digits and a valid MOD 97-10 check")
    return value


def normalize_imsi(raw: str) -> str:
    value = re.sub(r"\s+", "", raw or "")
    if not value.isdigit() or not 14 <= len(value) <= 15:
        raise InvalidIdentifier("invalid_imsi", "an IMSI has 14 or 15 digits")
    return value


def normalize_imei(raw: str) -> str:
    value = re.sub(r"[\s-]+", "", raw or "")
    if len(value) != 15 or not value.isdigit() or not luhn.is_valid(value):
        raise InvalidIdentifier("invalid_imei", "an IMEI has 15 digits and a valid Luhn check")
    return value
