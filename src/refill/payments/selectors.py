"""What the configured payment provider offers, for the faces that list ways to pay."""

from __future__ import annotations

import logging

from refill.integrations.payments.base import PROVIDER_WALLETS, BrowserSetup, Capability

from .gateways import CARD, gateway_configured, gateway_for, gateway_name_for

logger = logging.getLogger(__name__)


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


def card_browser_setup() -> BrowserSetup | None:
    """The provider's script set-up when the adapter that takes cards tokenises them in the browser
    (``browser_tokenisation``, Stripe): every card form then shows the provider's own card field and
    posts only its reference. None when cards are typed into Refill's form (the sandbox) or the
    adapter is not configured."""
    name = gateway_name_for(CARD)
    if not gateway_configured(name):
        return None
    gateway = gateway_for(name)
    if Capability.BROWSER_TOKENISATION not in gateway.capabilities:
        return None
    return gateway.browser_setup()


def provider_browser_action(*, payment) -> str:
    """The secret the provider's script needs to carry out the bank's step for ``payment`` in the
    page ("" when there is none: the customer was sent to the provider's page, or nothing waits).
    Asked only of an adapter that declares ``browser_tokenisation``; a provider that does not answer
    leaves the page as it was (reconciliation settles the attempt)."""
    if not gateway_configured(payment.gateway):
        return ""
    gateway = gateway_for(payment.gateway)
    if Capability.BROWSER_TOKENISATION not in gateway.capabilities:
        return ""
    try:
        return gateway.browser_action(payment.idempotency_key, payment.provider_reference)
    except Exception:
        logger.exception("payment %s: the provider did not say how the bank's step is done", payment.pk)
        return ""
