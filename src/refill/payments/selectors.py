"""What the configured payment provider offers, for the faces that list ways to pay."""

from __future__ import annotations

from refill.integrations.payments.base import PROVIDER_WALLETS

from .gateways import gateway_configured, gateway_for, gateway_name_for


def provider_wallets_offered(gateway_name: str | None = None) -> dict[str, str]:
    """The provider wallets (PayPal, Apple Pay, Alipay, WeChat Pay) a checkout may offer: code ->
    name in the reader's language, in Refill's order. Each is offered when the adapter that takes
    it (``gateway_name``, or the one ``REFILL_PAYMENT_ROUTES`` routes it to) is configured and
    declares it. Empty when none is."""
    offered = {}
    for code, name in PROVIDER_WALLETS.items():
        adapter = gateway_name or gateway_name_for(code)
        if gateway_configured(adapter) and code in gateway_for(adapter).capabilities.wallets:
            offered[code] = name
    return offered
