"""Refill PIN batches, redemption, voiding and expiry. Every money effect is a ledger entry."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from refill.audit.services import audit_record
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.domain.money import MINOR_UNITS, quantize
from refill.events import emit_many
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import account_for, entry_post
from refill.lines.models import Line
from refill.ops.safetext import clean_text, csv_writer

from .errors import (
    InvalidBatch,
    NumberNotFound,
    TooManyPinAttempts,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherUnknown,
    VoucherVoided,
    VoucherWrongCurrency,
)
from .models import RedemptionAttempt, Voucher, VoucherBatch

PIN_DIGITS = 16
DEFAULT_VALIDITY = timedelta(days=90)
MAX_VALIDITY = timedelta(days=3650)  # as for generated PINs (voucher_batch_generate)
MAX_BATCH = 10_000
MAX_FACE_VALUE = Decimal("10000")  # per PIN, in major units of any currency
MAX_BATCH_VALUE = Decimal("1000000")  # per batch, in major units
# Lockout after repeated misses: per account and per address, within an hour.
MISSES_PER_ACCOUNT = 5
MISSES_PER_ADDRESS = 20
WINDOW = timedelta(hours=1)


def normalize_pin(raw: str) -> str:
    return "".join(ch for ch in (raw or "") if ch.isdigit())


def pin_hash(pin: str) -> str:
    key = hashlib.sha256(f"refill.voucher-pin:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, normalize_pin(pin).encode(), hashlib.sha256).hexdigest()


def _issue_entry(batch: VoucherBatch, total: Decimal, actor) -> None:
    entry_post(
        key=f"voucher_batch:{batch.pk}:issue",
        cause=JournalEntry.Cause.VOUCHER_BATCH,
        cause_id=batch.pk,
        postings=[
            (account_for(Account.Purpose.VOUCHER_RECEIVABLE, batch.currency), total),
            (account_for(Account.Purpose.VOUCHER_FLOAT, batch.currency), -total),
        ],
        actor=actor,
        memo=f"refill PIN batch {batch.code}",
    )


def _new_batch_code(prefix: str) -> str:
    return f"{prefix}-{timezone.now():%Y%m%d}-{secrets.token_hex(3).upper()}"


def _check_money(face_value, currency: str) -> Decimal:
    if currency not in MINOR_UNITS:
        raise InvalidBatch(reason=_("the currency %(currency)s is not supported") % {"currency": currency})
    try:
        value = Decimal(face_value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidBatch(reason=_("the face value %(value)s is not a number") % {"value": face_value}) from None
    if not value.is_finite() or value <= 0:
        raise InvalidBatch(
            reason=_("the face value %(value)s must be positive, in whole cents") % {"value": face_value}
        )
    # The bound first: rounding 1e400 to cents is past what Decimal may compute (InvalidOperation).
    if value > MAX_FACE_VALUE:
        raise InvalidBatch(reason=_("the face value must be at most %(max)s") % {"max": MAX_FACE_VALUE})
    if quantize(value, currency) != value:
        raise InvalidBatch(
            reason=_("the face value %(value)s must be positive, in whole cents") % {"value": face_value}
        )
    return value


def voucher_batch_generate(
    *, count: int, face_value, currency: str, expires_in_days: int = 90, note: str = "", actor=None
) -> tuple[VoucherBatch, list[tuple[str, str]]]:
    """Make ``count`` PINs. Returns the batch and the (serial, PIN) pairs: the only time the PINs
    exist in the clear. The face value total enters the voucher float."""
    if not 1 <= int(count) <= MAX_BATCH:
        raise InvalidBatch(reason=_("the count must be between 1 and %(max)s") % {"max": MAX_BATCH})
    if not 1 <= int(expires_in_days) <= 3650:
        raise InvalidBatch(reason=_("the validity must be between 1 and 3650 days"))
    value = _check_money(face_value, currency)
    if value * int(count) > MAX_BATCH_VALUE:
        raise InvalidBatch(reason=_("a batch may be worth at most %(max)s") % {"max": MAX_BATCH_VALUE})
    expires_at = timezone.now() + timedelta(days=int(expires_in_days))
    with transaction.atomic():
        batch = VoucherBatch.objects.create(
            code=_new_batch_code("B"),
            source=VoucherBatch.Source.GENERATED,
            currency=currency,
            face_value=value,
            count=count,
            note=note[:200],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        pins, rows = [], []
        seen = set()
        while len(pins) < count:
            pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
            digest = pin_hash(pin)
            if digest in seen or Voucher.objects.filter(pin_hash=digest).exists():
                continue
            seen.add(digest)
            serial = f"{batch.code}-{len(pins) + 1:06d}"
            pins.append((serial, pin))
            rows.append(
                Voucher(
                    batch=batch,
                    serial=serial,
                    pin_hash=digest,
                    face_value=value,
                    currency=currency,
                    expires_at=expires_at,
                )
            )
        Voucher.objects.bulk_create(rows, batch_size=1000)
        _issue_entry(batch, value * count, actor)
        audit_record(
            actor=actor,
            action="voucher_batch.generate",
            obj=batch,
            data={"count": count, "face_value": str(value), "currency": currency},
        )
    return batch, pins


def pins_csv(batch: VoucherBatch, pins: list[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["serial", "pin", "face_value", "currency", "expires_at"])
    expires = {v.serial: v.expires_at for v in batch.vouchers.all()}
    for serial, pin in pins:
        writer.writerow([serial, pin, f"{batch.face_value:.2f}", batch.currency, expires[serial].date().isoformat()])
    return buffer.getvalue()


@dataclass
class ImportReport:
    created: int = 0
    already_present: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    batches: list[VoucherBatch] = field(default_factory=list)


def voucher_batch_import(*, text: str, note: str = "", actor=None) -> ImportReport:
    """Import PINs made elsewhere from CSV (serial, pin, face_value, currency[, expires_at]).
    Each bad row is reported with its line number and nothing of it is written; rows whose serial is
    already here with the same PIN are skipped, so importing the same file twice changes nothing."""
    report = ImportReport()
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        report.errors.append((0, _("the file is not valid CSV: %(error)s") % {"error": exc}))
        return report
    reader = csv.DictReader(io.StringIO(text))
    required = {"serial", "pin", "face_value", "currency"}
    if not reader.fieldnames or not required <= {name.strip() for name in reader.fieldnames}:
        report.errors.append(
            (1, _("the header must name serial, pin, face_value, currency (and optionally expires_at)"))
        )
        return report
    valid: dict[str, list[Voucher]] = {}
    seen_serials: set[str] = set()
    seen_pins: dict[str, int] = {}
    for number, raw in enumerate(rows, start=2):
        # Control characters (a NUL cannot even be stored) are dropped from every cell as it is read.
        row = {key.strip(): clean_text(value or "").strip() for key, value in raw.items() if key}
        serial, pin, currency = (
            row.get("serial", ""),
            normalize_pin(row.get("pin", "")),
            row.get("currency", "").upper(),
        )
        try:
            if not all(_is_unicode(cell) for cell in row.values()):
                raise InvalidBatch(reason=_("the row holds a lone surrogate, which is not a character"))
            if not serial or len(serial) > 40:
                raise InvalidBatch(reason=_("the serial is missing or longer than 40 characters"))
            if serial in seen_serials:
                raise InvalidBatch(reason=_("the serial %(serial)s appears twice in the file") % {"serial": serial})
            if not 12 <= len(pin) <= 20 or pin != row.get("pin", "").replace(" ", "").replace("-", ""):
                raise InvalidBatch(reason=_("the PIN must be 12 to 20 digits"))
            value = _check_money(row.get("face_value", ""), currency)
            expires_at = _parse_expiry(row.get("expires_at", ""))
        except InvalidBatch as exc:
            report.errors.append((number, str(exc)))
            continue
        digest = pin_hash(pin)
        if digest in seen_pins:
            report.errors.append(
                (number, _("this PIN is already on line %(line)s of the file") % {"line": seen_pins[digest]})
            )
            continue
        seen_serials.add(serial)
        seen_pins[digest] = number
        existing = Voucher.objects.filter(serial=serial).first()
        if existing is not None:
            if existing.pin_hash == digest:
                report.already_present += 1
            else:
                report.errors.append(
                    (number, _("the serial %(serial)s is already here with a different PIN") % {"serial": serial})
                )
            continue
        if Voucher.objects.filter(pin_hash=digest).exists():
            report.errors.append((number, _("this PIN is already here under another serial")))
            continue
        valid.setdefault(currency, []).append(
            Voucher(serial=serial, pin_hash=digest, face_value=value, currency=currency, expires_at=expires_at)
        )
    for currency, vouchers in sorted(valid.items()):
        if sum((v.face_value for v in vouchers), Decimal(0)) > MAX_BATCH_VALUE:
            report.errors.append(
                (
                    0,
                    _("%(currency)s: a batch may be worth at most %(max)s")
                    % {"currency": currency, "max": MAX_BATCH_VALUE},
                )
            )
            continue
        try:
            with transaction.atomic():
                batch = VoucherBatch.objects.create(
                    code=_new_batch_code("IMP"),
                    source=VoucherBatch.Source.IMPORTED,
                    currency=currency,
                    count=len(vouchers),
                    note=note[:200],
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
                for voucher in vouchers:
                    voucher.batch = batch
                Voucher.objects.bulk_create(vouchers, batch_size=1000)
                _issue_entry(batch, sum((v.face_value for v in vouchers), Decimal(0)), actor)
                audit_record(actor=actor, action="voucher_batch.import", obj=batch, data={"count": len(vouchers)})
        except IntegrityError:
            report.errors.append(
                (
                    0,
                    _("%(currency)s: another import of the same PINs ran at the same time; run it again")
                    % {"currency": currency},
                )
            )
            continue
        report.created += len(vouchers)
        report.batches.append(batch)
    return report


def _is_unicode(text: str) -> bool:
    """Whether ``text`` is all characters (no lone surrogate, which no database can encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse_expiry(text: str) -> datetime:
    if not text:
        return timezone.now() + DEFAULT_VALIDITY
    not_a_date = InvalidBatch(reason=_("expires_at %(value)s is not a date (YYYY-MM-DD)") % {"value": text})
    try:
        # Django's parsers return None for what is not shaped like a date, and raise ValueError for
        # one shaped like it that does not exist (2027-02-30, 25:00, an offset past 24 hours).
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is None:
                raise not_a_date
            moment = datetime(day.year, day.month, day.day, 23, 59, 59)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        now = timezone.now()
        if moment <= now:
            raise InvalidBatch(reason=_("expires_at is in the past"))
        far = moment - now > MAX_VALIDITY
    except (ValueError, OverflowError):  # year 1 or 9999 moved to UTC leaves the calendar
        raise not_a_date from None
    if far:
        raise InvalidBatch(reason=_("expires_at is more than 10 years away"))
    return moment


def _record_attempt(customer, ip: str | None, succeeded: bool) -> None:
    # Its own transaction: a miss is counted even though the redemption itself is refused.
    with transaction.atomic():
        RedemptionAttempt.objects.create(customer=customer, ip_address=ip or None, succeeded=succeeded)


def _check_rate(customer, ip: str | None) -> None:
    since = timezone.now() - WINDOW
    misses = RedemptionAttempt.objects.filter(succeeded=False, at__gte=since)
    if customer is not None and misses.filter(customer=customer).count() >= MISSES_PER_ACCOUNT:
        raise TooManyPinAttempts()
    if ip and misses.filter(ip_address=ip).count() >= MISSES_PER_ADDRESS:
        raise TooManyPinAttempts()


def voucher_peek(*, pin: str, ip: str | None) -> Voucher | None:
    """The refill PIN ``pin`` names, read without redeeming it (a checkout checks that it covers a
    price first), or None. Behind the same per-address limit as a redemption, so reading is no way
    around it; a miss is counted by the redemption that follows (voucher_redeem)."""
    _check_rate(None, ip)
    return Voucher.objects.filter(pin_hash=pin_hash(pin)).first() if normalize_pin(pin) else None


_SAME = object()


def voucher_redeem(
    *,
    pin: str,
    customer,
    ip: str | None = None,
    gift_msisdn: str = "",
    actor=None,
    now: datetime | None = None,
    count_misses_for=_SAME,
) -> Voucher:
    """Redeem a PIN onto the customer's own wallet, or onto the wallet of whoever owns
    ``gift_msisdn``. Each PIN redeems once, even when two people race with it."""
    now = now or timezone.now()
    # Misses count against the customer redeeming; at a shop counter (count_misses_for=None) they
    # count against the shop's address only, so an agent's typo does not lock the customer out.
    counted = customer if count_misses_for is _SAME else count_misses_for
    _check_rate(counted, ip)
    recipient, gift_line = customer, None
    if gift_msisdn:
        try:
            number = normalize_msisdn(gift_msisdn, getattr(settings, "REFILL_DEFAULT_REGION", None))
        except InvalidIdentifier:
            raise NumberNotFound() from None
        gift_line = (
            Line.objects.select_related("owner", "market")
            .filter(msisdn=number)
            .exclude(status__in=["available", "ported_out"])
            .first()
        )
        if gift_line is None:
            raise NumberNotFound()
        recipient = gift_line.owner
    voucher = Voucher.objects.filter(pin_hash=pin_hash(pin)).first() if normalize_pin(pin) else None
    if voucher is None:
        _record_attempt(counted, ip, False)
        raise VoucherUnknown()
    if gift_line is not None and gift_line.market.currency != voucher.currency:
        raise VoucherWrongCurrency(currency=voucher.currency)
    if gift_line is None and not recipient.lines.filter(market__currency=voucher.currency).exists():
        # Money in a currency none of the customer's numbers use could never be spent.
        raise VoucherWrongCurrency(currency=voucher.currency)
    try:
        with transaction.atomic():
            locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
            if locked.state == Voucher.State.REDEEMED:
                raise VoucherAlreadyUsed()
            if locked.state == Voucher.State.VOIDED:
                raise VoucherVoided()
            if locked.state == Voucher.State.EXPIRED or locked.expires_at <= now:
                raise VoucherExpired()
            # The conditional update is the single-use guard even without row locks (SQLite).
            claimed = Voucher.objects.filter(pk=locked.pk, state=Voucher.State.ACTIVE).update(
                state=Voucher.State.REDEEMED,
                redeemed_at=now,
                redeemed_by=customer,
                credited_to=recipient,
                gift_line=gift_line,
            )
            if claimed != 1:
                raise VoucherAlreadyUsed()
            entry_post(
                key=f"voucher:{locked.pk}:redeem",
                cause=JournalEntry.Cause.VOUCHER,
                cause_id=locked.pk,
                postings=[
                    (account_for(Account.Purpose.VOUCHER_FLOAT, locked.currency), locked.face_value),
                    (account_for(Account.Purpose.WALLET, locked.currency, customer=recipient), -locked.face_value),
                ],
                actor=actor,
                memo=f"refill PIN {locked.serial}" + (f" onto {gift_line.msisdn}" if gift_line else ""),
            )
            audit_record(
                actor=actor or customer,
                action="voucher.redeem",
                obj=locked,
                data={"credited_to": recipient.pk, "gift_line": gift_line.msisdn if gift_line else None},
            )
            RedemptionAttempt.objects.create(customer=counted, ip_address=ip or None, succeeded=True)
            emit_many(
                "voucher.redeemed",
                [{"line_id": gift_line.pk if gift_line else None, "customer_id": recipient.pk,
                  "serial": locked.serial, "amount": str(locked.face_value), "currency": locked.currency,
                  "msisdn": gift_line.msisdn if gift_line else None, "redeemed_at": now}],
                now=now,
            )  # fmt: skip
    except (VoucherAlreadyUsed, VoucherVoided, VoucherExpired):
        _record_attempt(counted, ip, False)
        raise
    locked.refresh_from_db()
    return locked


def _retire(voucher: Voucher, *, state: str, to: str, suffix: str, memo: str, actor=None) -> bool:
    """Move an unused PIN to ``state`` and its face value out of the float to account ``to``."""
    if Voucher.objects.filter(pk=voucher.pk, state=Voucher.State.ACTIVE).update(state=state) != 1:
        return False
    entry_post(
        key=f"voucher:{voucher.pk}:{suffix}",
        cause=JournalEntry.Cause.VOUCHER_VOID,
        cause_id=voucher.pk,
        postings=[
            (account_for(Account.Purpose.VOUCHER_FLOAT, voucher.currency), voucher.face_value),
            (account_for(to, voucher.currency), -voucher.face_value),
        ],
        actor=actor,
        memo=memo[:200],
    )
    return True


def voucher_void(*, voucher: Voucher, reason: str, actor=None) -> bool:
    """Cancel an unused PIN: its face value leaves the float again. False if it was not active."""
    reason = clean_text(reason)
    with transaction.atomic():
        if not _retire(
            voucher,
            state=Voucher.State.VOIDED,
            to=Account.Purpose.VOUCHER_RECEIVABLE,
            suffix="void",
            memo=f"refill PIN {voucher.serial} voided: {reason}",
            actor=actor,
        ):
            return False
        audit_record(actor=actor, action="voucher.void", obj=voucher, reason=reason[:200])
    return True


def vouchers_expire_sweep(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Unused PINs past their expiry leave the float as breakage. Safe to run twice."""
    now = now or timezone.now()
    expired = 0
    for voucher in Voucher.objects.filter(state=Voucher.State.ACTIVE, expires_at__lte=now).order_by("pk")[:batch]:
        with transaction.atomic():
            if _retire(
                voucher,
                state=Voucher.State.EXPIRED,
                to=Account.Purpose.VOUCHER_BREAKAGE,
                suffix="expire",
                memo=f"refill PIN {voucher.serial} expired",
            ):
                expired += 1
    return expired
