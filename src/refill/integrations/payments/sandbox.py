"""The built-in sandbox gateway: deterministic test cards, no network, used by demo and tests.

Card numbers are read once, turned into a token that encodes only the outcome, brand, last 4 and
expiry, and dropped. Charges are idempotent per idempotency key, like a real provider's.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time

from stdnum import luhn

from .base import (
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    PaymentToken,
    RefundRequest,
    RefundResult,
    TokenizationError,
)

SUCCESS = "success"

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
}


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


class SandboxGateway:
    name = "sandbox"
    # Charges seen by this process, keyed by idempotency key: a replayed key gets the first answer.
    _charges: dict[str, ChargeResult] = {}
    _lock = threading.Lock()

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

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        with self._lock:
            if request.idempotency_key in self._charges:
                return self._charges[request.idempotency_key]
        if not request.token.startswith("tok_sandbox_"):
            result = ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.INVALID_CARD)
        else:
            outcome = request.token.removeprefix("tok_sandbox_").rsplit("_", 1)[0]
            reference = "ch_sandbox_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
            if outcome == SUCCESS:
                result = ChargeResult(ChargeStatus.SUCCEEDED, provider_reference=reference)
            else:
                result = ChargeResult(
                    ChargeStatus.FAILED, provider_reference=reference, decline_code=DeclineCode(outcome)
                )
        with self._lock:
            return self._charges.setdefault(request.idempotency_key, result)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refunds of sandbox charges always succeed, once per idempotency key."""
        if not request.provider_reference.startswith("ch_sandbox_") or request.amount <= 0:
            return RefundResult(ChargeStatus.FAILED)
        reference = "re_sandbox_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
        return RefundResult(ChargeStatus.SUCCEEDED, provider_reference=reference)
