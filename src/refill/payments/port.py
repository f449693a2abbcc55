"""The payment port as the rest of Refill sees it: the values that go to and come from a provider
(card details, tokens, charge and refund requests and results, decline codes, capabilities).

Only ``refill.payments`` reaches ``refill.integrations.payments`` (an import-linter contract in
pyproject.toml checks it); the checkout, the faces and the sweeps import these names from here, so
a provider's adapter, its rate limiter and the port's module can move without touching them."""

from refill.integrations.payments.base import (
    PROVIDER_WALLETS,
    BrowserCard,
    BrowserSetup,
    Capability,
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    PaymentGateway,
    PaymentToken,
    RefundRequest,
    RefundResult,
    TokenizationError,
)

__all__ = [
    "PROVIDER_WALLETS",
    "BrowserCard",
    "BrowserSetup",
    "Capability",
    "CardDetails",
    "ChargeRequest",
    "ChargeResult",
    "ChargeStatus",
    "DeclineCode",
    "PaymentGateway",
    "PaymentToken",
    "RefundRequest",
    "RefundResult",
    "TokenizationError",
]
