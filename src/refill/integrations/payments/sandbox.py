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
import time

from stdnum import luhn

from .base import (
    PROVIDER_WALLETS,
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


def _insert_once(charge) -> bool:
    """Store a charge unless its key already charged, in one statement; True if stored."""
    from django.db import connection

    meta = type(charge)._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({q('idempotency_key')}) DO NOTHING",
            [f.get_db_prep_save(getattr(charge, f.attname), connection) for f in fields],
        )
        return cursor.rowcount == 1


class SandboxGateway:
    name = "sandbox"

    def __init__(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms

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
        charge = SandboxCharge(
            idempotency_key=request.idempotency_key,
            reference=reference,
            amount=request.amount,
            currency=request.currency,
            status=status,
            decline_code=decline,
            return_url=request.return_url,
        )
        if not _insert_once(charge):
            # The key charged before: answer what it did then, never charge twice.
            charge = SandboxCharge.objects.get(idempotency_key=request.idempotency_key)
            return self._result(charge)
        if outcome == TIMEOUT_AFTER_CHARGE:
            raise SandboxTimeout("the sandbox provider charged, then the answer was lost")
        return self._result(charge)

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
        from django.conf import settings

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
