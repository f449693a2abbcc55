"""The built-in sandbox gateway: deterministic test cards, no network, used by demo and tests.

It behaves like a remote provider: charges and refunds are kept in its own table (standing in for
the provider's servers, so every process sees the same answers), each idempotency key charges at
most once, and two cards time out, one after charging and one before, so that reconciliation
(``fetch``) can be exercised. Card numbers are read once, turned into a token that encodes only the
outcome, brand, last 4 and expiry, and dropped.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import time
from types import SimpleNamespace

from django.conf import settings
from django.db import connection
from django.utils import timezone
from stdnum import luhn

from .base import (
    PROVIDER_WALLETS,
    BrowserCard,
    BrowserSetup,
    Capabilities,
    Capability,
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    PaymentToken,
    RefundRequest,
    RefundResult,
    SavedMethod,
    TokenizationError,
    WebhookEvent,
    WebhookInvalid,
    sign_payload,
    verify_signed_payload,
)

SUCCESS = "success"

TIMEOUT_AFTER_CHARGE = "timeout_charged"
TIMEOUT_BEFORE_CHARGE = "timeout_not_charged"

# Test card numbers (docs/payments.md and the README list them). Any future expiry, any CVC.
TEST_CARDS: dict[str, str] = {
    "4242424242424242": SUCCESS,
    "5555555555554444": SUCCESS,
    "4000000000009995": DeclineCode.INSUFFICIENT_FUNDS,
    "4000000000009987": DeclineCode.OVER_LIMIT,
    "4000000000009979": DeclineCode.CARD_FROZEN,
    "4000000000000069": DeclineCode.EXPIRED_CARD,
    "4000000000000127": DeclineCode.INCORRECT_CVC,
    "4000000000000002": DeclineCode.DO_NOT_HONOUR,
    "4000000000000119": DeclineCode.NETWORK_ERROR,
    "4000000000000341": TIMEOUT_AFTER_CHARGE,
    "4000000000000259": TIMEOUT_BEFORE_CHARGE,
    "4000000000003162": "requires_action",
}


class SandboxTimeout(TimeoutError):
    """What a provider call that never answered looks like to the caller."""


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("62"):
        return "unionpay"
    return "card"


class _Book:
    """The sandbox's books, kept the way a provider's servers keep them under load: charges that
    arrive together (auto-renew's charging threads) are stored together, in one INSERT, before any
    of them is answered. The first caller to find the books free writes everything waiting; the
    others wait for it, then find their charge already written. A key charged before is stored
    once (its later calls answer what it did then). A caller inside a transaction stores only its
    own charge, on its own connection, so nobody's charge can be rolled back with it."""

    COLUMNS = ("idempotency_key", "reference", "amount", "currency", "status", "decline_code", "return_url")

    def __init__(self) -> None:
        self._waiting: list[_Entry] = []
        self._waiting_lock = threading.Lock()
        self._writer = threading.Lock()

    def store(self, row: tuple) -> bool:
        """Store ``row`` (values of COLUMNS) unless its key charged before; True if stored now."""
        if connection.in_atomic_block:
            return bool(self._insert([row], connection))
        entry = _Entry(row)
        with self._waiting_lock:
            self._waiting.append(entry)
        with self._writer:
            if not entry.done:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    stored = self._insert([e.row for e in batch], connection)
                except BaseException as error:
                    for e in batch:
                        e.error, e.done = error, True
                    raise
                for e in batch:
                    # Two calls with one key in the same write: only the first stored it.
                    e.stored, e.done = e.row[0] in stored, True
                    stored.discard(e.row[0])
        if entry.error is not None:
            raise entry.error
        return entry.stored

    def _insert(self, rows: list[tuple], connection) -> set[str]:
        """INSERT the rows, skipping keys already stored; the keys stored."""
        from refill.payments.models import SandboxCharge

        q = connection.ops.quote_name
        columns = ", ".join(q(c) for c in (*self.COLUMNS, "created_at"))
        now = timezone.now()
        placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(self.COLUMNS) + 1)) + ")"] * len(rows))
        params = []
        field = SandboxCharge._meta.get_field("created_at")
        stamp = field.get_db_prep_save(now, connection)
        amount = SandboxCharge._meta.get_field("amount")
        for row in rows:
            params += [*row[:2], amount.get_db_prep_save(row[2], connection), *row[3:], stamp]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {q(SandboxCharge._meta.db_table)} ({columns}) VALUES {placeholders} "
                f"ON CONFLICT ({q('idempotency_key')}) DO NOTHING RETURNING {q('idempotency_key')}",
                params,
            )
            return {key for (key,) in cursor.fetchall()}


class _Entry:
    __slots__ = ("done", "error", "row", "stored")

    def __init__(self, row: tuple) -> None:
        self.row, self.done, self.stored, self.error = row, False, False, None


_book = _Book()


class SandboxGateway:
    name = "sandbox"
    # Everything a provider can do, so the demo and the tests reach every path; the provider
    # wallets are its stand-in pages (``/sandbox/confirm/…``).
    capabilities = Capabilities(
        features=frozenset(
            {
                Capability.SERVER_TOKENISATION,
                Capability.SAVED_METHODS,
                Capability.OFF_SESSION,
                Capability.THREE_D_SECURE,
                Capability.REFUNDS,
                Capability.PARTIAL_REFUNDS,
                Capability.WEBHOOKS,
            }
        ),
        wallets=tuple(PROVIDER_WALLETS),
    )

    def __init__(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms

    @classmethod
    def from_settings(cls) -> SandboxGateway:
        return cls(latency_ms=settings.REFILL_SANDBOX_LATENCY_MS)

    def tokenize(self, card: CardDetails) -> PaymentToken:
        number = "".join(ch for ch in card.number if ch.isdigit())
        if not 12 <= len(number) <= 19 or not luhn.is_valid(number):
            raise TokenizationError(DeclineCode.INVALID_CARD, "card number is not valid")
        if not 1 <= card.exp_month <= 12:
            raise TokenizationError(DeclineCode.INVALID_CARD, "expiry month is not valid")
        today = datetime.date.today()
        if (card.exp_year, card.exp_month) < (today.year, today.month):
            raise TokenizationError(DeclineCode.EXPIRED_CARD, "card has expired")
        if not card.cvc.isdigit() or len(card.cvc) not in (3, 4):
            raise TokenizationError(DeclineCode.INCORRECT_CVC, "security code is not valid")
        outcome = TEST_CARDS.get(number, SUCCESS)
        # The token carries the outcome and a digest, never the number.
        digest = hashlib.sha256(number.encode()).hexdigest()[:12]
        return PaymentToken(
            token=f"tok_sandbox_{outcome}_{digest}",
            brand=_brand(number),
            last4=number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    def tokenize_wallet(self, method: str) -> PaymentToken:
        """A provider wallet (PayPal, Apple Pay, Alipay, WeChat Pay): no card data at all; the
        customer approves on the provider's page."""
        if method not in PROVIDER_WALLETS:
            raise TokenizationError(DeclineCode.INVALID_CARD, f"unknown payment method {method!r}")
        return PaymentToken(token=f"tok_sandbox_wallet_{method}_x", brand=method, last4="", exp_month=0, exp_year=0)

    # The sandbox takes cards in Refill's own form (the demo and the tests type its test numbers), so it
    # does not declare ``browser_tokenisation``; Refill never calls these.
    def browser_setup(self) -> BrowserSetup:
        raise TokenizationError(DeclineCode.INVALID_CARD, "the sandbox has no script of its own")

    def tokenize_browser(self, card: BrowserCard) -> PaymentToken:
        raise TokenizationError(DeclineCode.INVALID_CARD, "the sandbox has no script of its own")

    def browser_action(self, idempotency_key: str, provider_reference: str = "") -> str:
        return ""

    def save_method(
        self, token: PaymentToken, *, customer_reference: str, email: str, idempotency_key: str
    ) -> SavedMethod:
        """Sandbox tokens are reusable as they are; there is no customer record at the provider."""
        return SavedMethod(token=token.token)

    @staticmethod
    def _result(charge) -> ChargeResult:
        if charge.status == ChargeStatus.REQUIRES_ACTION:
            from django.urls import reverse

            return ChargeResult(
                ChargeStatus.REQUIRES_ACTION,
                provider_reference=charge.reference,
                next_url=reverse("sandbox_confirm", args=[charge.reference]),
            )
        if charge.status == ChargeStatus.SUCCEEDED:
            return ChargeResult(ChargeStatus.SUCCEEDED, provider_reference=charge.reference)
        return ChargeResult(
            ChargeStatus.FAILED, provider_reference=charge.reference, decline_code=DeclineCode(charge.decline_code)
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        from refill.payments.models import SandboxCharge

        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        outcome = "invalid"
        if request.token.startswith("tok_sandbox_"):
            outcome = request.token.removeprefix("tok_sandbox_").rsplit("_", 1)[0]
        if outcome == TIMEOUT_BEFORE_CHARGE:
            raise SandboxTimeout("the sandbox provider did not answer (nothing was charged)")
        # The sandbox finds a charge by its idempotency key (``fetch``), so unlike a provider whose
        # reference is the only handle (Stripe), it has no reference to report before charging.
        reference = "ch_sandbox_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
        if outcome in (SUCCESS, TIMEOUT_AFTER_CHARGE):
            status, decline = ChargeStatus.SUCCEEDED, ""
        elif outcome == "requires_action" and request.off_session:
            # Nobody is there to confirm with the bank.
            status, decline = ChargeStatus.FAILED, DeclineCode.AUTHENTICATION_FAILED
        elif outcome == "requires_action" or outcome.startswith("wallet_"):
            status, decline = ChargeStatus.REQUIRES_ACTION, ""
        else:
            status = ChargeStatus.FAILED
            decline = outcome if outcome in DeclineCode._value2member_map_ else DeclineCode.INVALID_CARD
        row = (
            request.idempotency_key,
            reference,
            request.amount,
            request.currency,
            status,
            decline,
            request.return_url,
        )
        if not _book.store(row):
            # The key charged before: answer what it did then, never charge twice.
            return self._result(SandboxCharge.objects.get(idempotency_key=request.idempotency_key))
        if outcome == TIMEOUT_AFTER_CHARGE:
            raise SandboxTimeout("the sandbox provider charged, then the answer was lost")
        return self._result(SimpleNamespace(status=status, reference=reference, decline_code=decline))

    def fetch(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult:
        """What the provider knows about a charge made with this key (reconciliation)."""
        from refill.payments.models import SandboxCharge

        charge = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
        if charge is None:
            # Never reached the provider: nothing was charged.
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.NETWORK_ERROR)
        return self._result(charge)

    def cancel(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult:
        """Give up on a charge still waiting for the customer's confirmation; a later confirmation
        then fails. A charge already settled keeps its result."""
        from refill.payments.models import SandboxCharge

        SandboxCharge.objects.filter(idempotency_key=idempotency_key, status=ChargeStatus.REQUIRES_ACTION).update(
            status=ChargeStatus.FAILED, decline_code=DeclineCode.AUTHENTICATION_FAILED
        )
        return self.fetch(idempotency_key)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refunds of sandbox charges succeed, once per idempotency key, up to the amount charged."""
        from refill.payments.models import SandboxCharge

        charge = SandboxCharge.objects.filter(reference=request.provider_reference, status="succeeded").first()
        if charge is None or request.amount <= 0:
            return RefundResult(ChargeStatus.FAILED)
        reference = "re_sandbox_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
        return RefundResult(ChargeStatus.SUCCEEDED, provider_reference=reference)

    # Webhooks: "Sandbox-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">", the same scheme
    # as Stripe's, with REFILL_SANDBOX_WEBHOOK_SECRET. Older than 5 minutes is refused (replays).
    TOLERANCE_SECONDS = 300

    @staticmethod
    def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
        return sign_payload(body, secret, timestamp)

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        verify_signed_payload(
            body, headers.get("Sandbox-Signature", ""), settings.REFILL_SANDBOX_WEBHOOK_SECRET, self.TOLERANCE_SECONDS
        )
        try:
            data = json.loads(body)
            obj = data["data"]
            return WebhookEvent(
                event_id=str(data["id"]),
                type=str(data["type"]),
                idempotency_key=str(obj.get("idempotency_key", "")),
                provider_reference=str(obj.get("reference", "")),
                decline_code=str(obj.get("decline_code", "")),
                payload=data,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookInvalid("malformed body") from None
