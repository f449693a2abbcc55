"""Keep secrets out of the logs.

``RedactingFilter`` sits on every handler in ``settings.LOGGING``. It rewrites a record's message
(after its arguments are substituted), its exception text and its stack text through ``redact``,
which masks:

- card numbers: 13–19 digits, optionally grouped by spaces or dashes, starting 2–6 (every payment
  brand's range; ICCIDs start 89 and are left alone), Luhn-valid. Only the last four digits stay.
- refill PINs: 16 digits (the generated format), optionally grouped; imported PINs of 12–20 digits
  are caught by their field name (``pin=…``).
- secrets in ``key=value``, ``key: value``, JSON and Python-repr form whose key names a password,
  token, secret, API key, authorization, session, cookie, CVC/CVV, PIN, one-time code or eSIM
  matching ID / confirmation code.
- ``Bearer …`` credentials; Refill API keys ``rfk_<prefix>_<secret>`` (the public prefix stays).
- eSIM activation codes ``LPA:1$<host>$<matching id>``: the host stays, the matching id is masked
  to its last four characters (the same as ``ActivationCode.masked``).

Ordinary numbers (order ids, amounts, E.164 numbers with their ``+``, ICCIDs, EIDs) pass unchanged.
"""

from __future__ import annotations

import logging
import re
import traceback

MASK = "[REDACTED]"

# Field names whose value is a secret wherever they appear inside a longer name
# (``client_secret``, ``access_token``, ``new_password1``, ``sessionid``, ``X-Api-Key``).
_SECRET_WORDS = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|authorization|session|cookie|credential"
    r"|private[_-]?key|cvc2?|cvv2?|security[_-]?code|card[_-]?code|card[_-]?number|cardnumber"
    r"|matching[_-]?id|matchingid|activation[_-]?code|confirmation[_-]?code|shop[_-]?pin"
)
# Short names that are secrets only as a whole word or a suffix (``pin``, ``voucher_pin``, ``otp``),
# so that ``shipping`` or ``mapping`` are not caught.
_SECRET_SUFFIXES = r"pin|pwd|otp|totp|csc|pan"
_KEY = rf"(?:[\w-]*(?:{_SECRET_WORDS})[\w-]*|(?:[\w-]*[_-])?(?:{_SECRET_SUFFIXES}))"
_KEY_VALUE = re.compile(
    rf"""(?P<key>(?<![\w-])["']?{_KEY}["']?)"""
    r"""(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s,;&"'}\])]+)""",
    re.IGNORECASE,
)
# A guest's private support link (/support/t/<reference>/<secret>/): the secret is the key.
_SUPPORT_LINK = re.compile(r"(/support/t/[A-Za-z0-9-]{1,40}/)[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"\b(Bearer)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
_API_KEY = re.compile(r"\b(rfk_[0-9a-f]{8})_[A-Za-z0-9_\-]+")
_ACTIVATION_CODE = re.compile(
    r"(?P<head>LPA(?::|%3A)1(?:\$|%24)[^$\s\"'%]+(?:\$|%24))(?P<matching>[0-9A-Za-z-]+)", re.IGNORECASE
)
# A run of 13–19 digits, single spaces or dashes allowed between digits; not part of a word, a
# decimal, or an E.164 number (``+``).
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z+.])\d(?:[ -]?\d){11,18}(?![0-9A-Za-z]|\.\d)")
_CARD_FIRST_DIGITS = "23456"
PIN_DIGITS = 16


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and _luhn_valid(digits)


def _mask_digit_run(match: re.Match[str]) -> str:
    text = match.group(0)
    # The pieces between separators, with their offsets, so that a card followed or preceded by an
    # unrelated group of digits ("4242 4242 4242 4242 12") is still found.
    pieces = [(piece.start(), piece.end()) for piece in re.finditer(r"\d+", text)]
    for first in range(len(pieces)):
        for last in range(len(pieces), first, -1):
            start, end = pieces[first][0], pieces[last - 1][1]
            digits = re.sub(r"\D", "", text[start:end])
            if _is_card(digits):
                return f"{text[:start]}[card …{digits[-4:]}]{text[end:]}"
            if len(digits) == PIN_DIGITS and not digits.startswith("89"):
                return f"{text[:start]}[PIN {MASK}]{text[end:]}".replace("[PIN [REDACTED]]", "[REDACTED PIN]")
    return text


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    if quote and len(value) == 2:
        return match.group(0)  # an empty string hides nothing
    if value in ("None", "null"):
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{quote}{MASK}{quote}"


def _mask_activation_code(match: re.Match[str]) -> str:
    matching = match.group("matching")
    tail = matching[-4:] if len(matching) >= 12 else ""
    return f"{match.group('head')}…{tail}"


def redact(text: str) -> str:
    """``text`` with every card number, PIN, password, token, API key and activation code masked."""
    if not text:
        return text
    text = _API_KEY.sub(rf"\1_{MASK}", text)
    text = _SUPPORT_LINK.sub(rf"\1{MASK}", text)
    text = _ACTIVATION_CODE.sub(_mask_activation_code, text)
    text = _KEY_VALUE.sub(_mask_value, text)
    text = _BEARER.sub(rf"\1 {MASK}", text)
    return _DIGIT_RUN.sub(_mask_digit_run, text)


class RedactingFilter(logging.Filter):
    """A handler filter that never drops a record, only rewrites it through ``redact``.

    The message is rendered with its arguments first (a secret may be an argument), then the
    arguments are dropped so no formatter renders the original again. The exception and stack texts
    are rendered here too, so formatters use the redacted copies (``Formatter.format`` reuses
    ``record.exc_text`` when set)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_refill_redacted", False):
            return True  # the same record reaches several handlers
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it; still hide what we can
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            if not record.exc_text:
                record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._refill_redacted = True
        return True
