"""What the configured payment provider offers, for the faces that list ways to pay."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from refill.catalog.models import PAY_METHOD_NAMES
from refill.catalog.selectors import market_pay_methods_on
from refill.domain import payment_methods as pay_rule
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


# The ways to pay that charge a card, and what the card's adapter must declare for each: a card
# typed or entered in the provider's form needs one of the two tokenisations, a saved card also
# ``saved_methods``.
_CARD_FAMILIES = (pay_rule.NEW_CARD, pay_rule.WALLET_CARD, pay_rule.SAVED)


def pay_methods_unavailable() -> dict[str, str]:
    """The ways to pay (families of ``refill.domain.payment_methods``) no market may switch on now,
    each with why, in the reader's language: the adapter it is routed to
    (``gateways.gateway_name_for``) is not configured, or does not declare it. The wallet and the
    refill PIN are Refill's own and always available. Read from the adapters' declarations, never
    by probing them."""
    unavailable: dict[str, str] = {}
    for family in _CARD_FAMILIES:
        why = _card_unavailable(family)
        if why:
            unavailable[family] = why
    for code in PROVIDER_WALLETS:
        adapter = gateway_name_for(code)
        words = {"method": PAY_METHOD_NAMES[code], "adapter": adapter}
        if not gateway_configured(adapter):
            unavailable[code] = _("%(method)s: no “%(adapter)s” payment adapter is configured.") % words
        elif code not in gateway_for(adapter).capabilities.wallets:
            unavailable[code] = _("%(method)s: the “%(adapter)s” payment adapter does not take it.") % words
    return unavailable


def _card_unavailable(family: str) -> str:
    adapter = gateway_name_for(CARD)
    words = {"method": PAY_METHOD_NAMES[family], "adapter": adapter}
    if not gateway_configured(adapter):
        return _("%(method)s: no “%(adapter)s” payment adapter is configured.") % words
    capabilities = gateway_for(adapter).capabilities
    if Capability.SERVER_TOKENISATION not in capabilities and Capability.BROWSER_TOKENISATION not in capabilities:
        return _("%(method)s: the “%(adapter)s” payment adapter takes no cards.") % words
    if family == pay_rule.SAVED and Capability.SAVED_METHODS not in capabilities:
        return _("%(method)s: the “%(adapter)s” payment adapter cannot save cards.") % words
    return ""


@dataclass(frozen=True)
class MarketMethods:
    """What a market's checkouts offer: ``order`` the market's order of families (the operator's,
    else the defaults), ``offered`` the families switched on whose adapter can take them now, and
    whether the order is the operator's (``configured``) rather than Refill's defaults."""

    order: list[str]
    offered: frozenset[str]
    configured: bool

    def preferences(self, market_code: str) -> dict[str, list[str]] | None:
        """The ``market_preferences`` to give ``domain.payment_methods.preference_for``: the
        operator's order for this market, or None to keep the defaults."""
        return {market_code: self.order} if self.configured else None


def market_methods(market_code: str) -> MarketMethods:
    """The ways to pay the checkouts of the market ``market_code`` offer, and their order."""
    configured = market_pay_methods_on(market_code)
    order = pay_rule.market_order(market_code, configured)
    unavailable = pay_methods_unavailable()
    offered = frozenset(family for family in order if family not in unavailable)
    return MarketMethods(order=order, offered=offered, configured=configured is not None)
