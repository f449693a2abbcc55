"""The payment gateway registry: the one way Refill reaches a provider.

Adapters are named in ``REFILL_PAYMENT_ADAPTERS`` (name -> dotted path of a class implementing
``refill.integrations.payments.base.PaymentGateway``); each is built once per process with its
``from_settings()`` and looked up by name. ``REFILL_PAYMENT_GATEWAY`` names the one new payments
go to; attempts already made keep the name of the adapter that took them (``Payment.gateway``), so
reconciliation, refunds and webhooks reach that one.

What an adapter can do is what it declares (``capabilities``); callers ask here
(``gateway_supports``, ``gateway_require``) instead of probing it for methods.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError
from refill.integrations.payments.base import Capability, PaymentGateway

# Wallet payments are recorded under "wallet"; the sandbox settles them (no provider is involved).
ALIASES = {"wallet": "sandbox"}

_instances: dict[str, PaymentGateway] = {}
_lock = threading.Lock()


class GatewayUnsupported(RefillError):
    """The adapter does not declare what was asked of it: a clear refusal instead of an
    AttributeError from deep inside a payment."""

    code = "payment_capability_missing"
    message = _("This payment provider cannot do that: %(what)s")


# What each capability is called when an adapter lacks it (shown to staff and customers).
CAPABILITY_NAMES = {
    Capability.SERVER_TOKENISATION: _("card details typed into this site"),
    Capability.BROWSER_TOKENISATION: _("cards entered in the provider's own form"),
    Capability.SAVED_METHODS: _("saving a payment method"),
    Capability.OFF_SESSION: _("charging a saved method without the customer"),
    Capability.THREE_D_SECURE: _("the bank's confirmation step"),
    Capability.REFUNDS: _("refunds"),
    Capability.PARTIAL_REFUNDS: _("partial refunds"),
    Capability.WEBHOOKS: _("provider notifications"),
}


# The way to pay that is a card, typed or saved (the provider wallets are PROVIDER_WALLETS' keys).
CARD = "card"


def gateway_name_for(method: str) -> str:
    """The name of the adapter that takes ``method`` ("card" or a provider wallet's code):
    ``REFILL_PAYMENT_ROUTES`` when it names one, else ``REFILL_PAYMENT_GATEWAY``. So one
    installation can take cards and Alipay through Stripe and PayPal through PayPal's own API."""
    name = settings.REFILL_PAYMENT_ROUTES.get(method) or settings.REFILL_PAYMENT_GATEWAY
    return ALIASES.get(name, name)


def gateway_names() -> list[str]:
    """Every adapter Refill knows, by name (the settings' order)."""
    return list(settings.REFILL_PAYMENT_ADAPTERS)


def gateway_for(name: str | None = None) -> PaymentGateway:
    """The adapter called ``name`` (default: the one new payments go to), built once. Raises
    LookupError for a name no adapter has, ImproperlyConfigured when its settings are missing."""
    name = name or settings.REFILL_PAYMENT_GATEWAY
    name = ALIASES.get(name, name)
    with _lock:
        gateway = _instances.get(name)
        if gateway is None:
            path = settings.REFILL_PAYMENT_ADAPTERS.get(name)
            if path is None:
                raise LookupError(f"no payment gateway named {name!r}")
            gateway = import_string(path).from_settings()
            if gateway.name != name:
                raise ImproperlyConfigured(f"the adapter registered as {name!r} calls itself {gateway.name!r}")
            _instances[name] = gateway
    return gateway


def gateway_configured(name: str) -> bool:
    """Whether the adapter ``name`` exists and its settings are complete."""
    try:
        gateway_for(name)
    except (LookupError, ImproperlyConfigured):
        return False
    return True


def gateway_supports(capability: Capability, name: str | None = None) -> bool:
    """Whether the adapter (default: the current one) declares ``capability``."""
    return capability in gateway_for(name).capabilities


def gateway_require(capability: Capability, name: str | None = None) -> PaymentGateway:
    """The adapter, if it declares ``capability``; otherwise GatewayUnsupported."""
    gateway = gateway_for(name)
    if capability not in gateway.capabilities:
        raise GatewayUnsupported(what=CAPABILITY_NAMES[capability])
    return gateway


@receiver(setting_changed)
def _forget_on_settings_change(*, setting: str, **kwargs) -> None:
    # Tests switch adapters and keys with override_settings: build afresh from the new values.
    if setting.startswith("REFILL_"):
        with _lock:
            _instances.clear()
