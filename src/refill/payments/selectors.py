"""What the configured payment provider offers, for the faces that list ways to pay."""

from __future__ import annotations

from refill.integrations.payments.base import PROVIDER_WALLETS

from .gateways import gateway_for


def provider_wallets_offered(gateway_name: str | None = None) -> dict[str, str]:
    """The provider wallets (PayPal, Apple Pay, Alipay, WeChat Pay) a checkout may offer: code ->
    name in the reader's language, those the adapter declares, in Refill's order. Empty when the
    adapter offers none."""
    declared = set(gateway_for(gateway_name).capabilities.wallets)
    return {code: name for code, name in PROVIDER_WALLETS.items() if code in declared}
