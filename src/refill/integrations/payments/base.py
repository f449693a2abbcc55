"""The payment gateway port. The rest of Refill knows only this interface and its results."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from django.utils.translation import gettext_lazy as _


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The customer must confirm with their bank first (3-D Secure): send them to ``next_url``.
    REQUIRES_ACTION = "requires_action"
    UNKNOWN = "unknown"


# Provider wallets paid by redirect-and-return (brand code -> name shown to people, in their
# language: 支付宝 and 微信支付 are what Chinese readers know them as).
PROVIDER_WALLETS = {
    "paypal": _("PayPal"),
    "apple_pay": _("Apple Pay"),
    "alipay": _("Alipay"),
    "wechat_pay": _("WeChat Pay"),
}


class Capability(StrEnum):
    """What an adapter can do. Each adapter declares its own (``capabilities``); Refill checks the
    declaration and never probes an adapter for methods (docs/payments.md, "Writing an adapter")."""

    # The server receives typed card details and turns them into a token (``tokenize``).
    SERVER_TOKENISATION = "server_tokenisation"
    # The provider's own script turns the card into a token in the browser (issue 28).
    BROWSER_TOKENISATION = "browser_tokenisation"
    # ``save_method`` keeps a method for later charges.
    SAVED_METHODS = "saved_methods"
    # A saved method can be charged with nobody present (auto-renew).
    OFF_SESSION = "off_session"
    # A charge may answer ``requires_action`` and be confirmed on the bank's page (3-D Secure).
    THREE_D_SECURE = "three_d_secure"
    REFUNDS = "refunds"
    # Less than the whole charge can be given back (and several times, up to the charge).
    PARTIAL_REFUNDS = "partial_refunds"
    # ``parse_webhook`` verifies and normalises the provider's notifications.
    WEBHOOKS = "webhooks"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """An adapter's declaration: the features it has and the provider wallets (keys of
    ``PROVIDER_WALLETS``, in the order Refill offers them) that ``tokenize_wallet`` accepts."""

    features: frozenset[Capability] = frozenset()
    wallets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [wallet for wallet in self.wallets if wallet not in PROVIDER_WALLETS]
        if unknown:
            raise ValueError(f"unknown provider wallets {unknown!r}")

    def __contains__(self, capability: object) -> bool:
        return capability in self.features


class DeclineCode(StrEnum):
    """Normalised reasons; every adapter maps its provider's codes onto these."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    OVER_LIMIT = "card_over_limit"
    CARD_FROZEN = "card_frozen"
    EXPIRED_CARD = "expired_card"
    INCORRECT_CVC = "incorrect_cvc"
    DO_NOT_HONOUR = "do_not_honour"
    NETWORK_ERROR = "network_error"
    INVALID_CARD = "invalid_card"
    AUTHENTICATION_FAILED = "authentication_failed"


@dataclass(frozen=True, slots=True)
class CardDetails:
    """Card data as typed by the customer. Lives only in memory until tokenised; never stored."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder: str = ""


@dataclass(frozen=True, slots=True)
class BrowserCard:
    """A card the provider's own script turned into a token in the customer's browser: Refill is
    given only the provider's reference (Stripe: ``pm_…``), never the number or the security code."""

    reference: str
    holder: str = ""


@dataclass(frozen=True, slots=True)
class BrowserSetup:
    """What a page needs to let the provider's script take a card (``browser_tokenisation``): the
    script, the public key it is given, and the origins the Content-Security-Policy must allow for
    it (the script itself, the frames it opens, the API it calls)."""

    provider: str
    script_url: str
    public_key: str
    script_origins: tuple[str, ...]
    frame_origins: tuple[str, ...]
    connect_origins: tuple[str, ...]
    # The merchant account's country (two letters), which the wallet button (Apple Pay, Google Pay) asks for.
    country: str = ""


@dataclass(frozen=True, slots=True)
class PaymentToken:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    amount: Decimal
    currency: str
    token: str
    idempotency_key: str
    description: str
    return_url: str = ""
    # A saved method's customer at the provider (SavedMethod.customer_reference), if any.
    customer_reference: str = ""
    # The customer is not there to confirm anything (auto-renew): fail rather than ask.
    off_session: bool = False
    # Called with the provider's reference as soon as the attempt exists there and before any
    # money can move, so that a lost answer can still be looked up by reference.
    on_reference: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """A method the provider keeps for later charges, on or off session."""

    token: str
    customer_reference: str = ""


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: ChargeStatus
    provider_reference: str = ""
    decline_code: DeclineCode | None = None
    next_url: str = ""
    # While ``requires_action``: what the customer scans with the provider's app to pay (WeChat
    # Pay's QR code data; Refill draws the code on its own page), and a link that opens that app
    # on a phone. Empty for redirect-only methods.
    qr_code: str = ""
    app_url: str = ""


@dataclass(frozen=True, slots=True)
class RefundRequest:
    provider_reference: str
    amount: Decimal
    currency: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    status: ChargeStatus
    provider_reference: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A provider's notification, verified and normalised: what happened to which attempt."""

    event_id: str
    type: str  # charge.succeeded, charge.failed, or anything else (ignored)
    idempotency_key: str
    provider_reference: str
    decline_code: str
    payload: dict


class WebhookInvalid(ValueError):
    """The signature, timestamp or body did not check out: refuse it, store nothing."""


def sign_payload(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: Stripe's documented scheme, which
    the sandbox uses too."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signed_payload(body: bytes, header: str, secret: str, tolerance: int = 300) -> None:
    """Check a ``t=..,v1=..`` signature header (several ``v1`` are allowed while a secret is being
    rolled). A timestamp further than ``tolerance`` seconds from now is refused, so a captured
    request cannot be replayed later."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise WebhookInvalid("missing timestamp")
    if abs(time.time() - timestamp) > tolerance:
        raise WebhookInvalid("timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookInvalid("bad signature")


class TokenizationError(ValueError):
    def __init__(self, code: DeclineCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class PaymentGateway(Protocol):
    name: str
    capabilities: Capabilities

    def tokenize(self, card: CardDetails) -> PaymentToken: ...

    def tokenize_wallet(self, method: str) -> PaymentToken: ...

    # Browser tokenisation (declared as ``browser_tokenisation``): the page set-up, the token the
    # provider's script made (checked with the provider, which tells brand, last 4 and expiry), and
    # the secret the script needs to carry out the bank's step in the page (``""`` when the attempt
    # waits for nothing the script can do).
    def browser_setup(self) -> BrowserSetup: ...

    def tokenize_browser(self, card: BrowserCard) -> PaymentToken: ...

    def browser_action(self, idempotency_key: str, provider_reference: str = "") -> str: ...

    def save_method(
        self, token: PaymentToken, *, customer_reference: str, email: str, idempotency_key: str
    ) -> SavedMethod: ...

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...

    def fetch(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult: ...

    def cancel(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult: ...

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent: ...
