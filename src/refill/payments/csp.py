"""The Content-Security-Policy when the adapter that takes cards does so with the provider's own
script (Stripe.js): the script's origin, the frames it opens (its card field, the bank's 3-D Secure
step, the Apple Pay / Google Pay button) and the API it calls are allowed, and nothing else changes.
With the sandbox (cards typed into Refill's form) the policy is ``SECURE_CSP`` exactly."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP

from refill.integrations.payments.base import BrowserSetup

from .selectors import card_browser_setup


def provider_script_policy(base: dict[str, list[str]], setup: BrowserSetup) -> dict[str, list[str]]:
    """``base`` (a SECURE_CSP mapping) widened for the provider's script, its frames and its API."""
    policy = {directive: list(values) for directive, values in base.items()}
    fallback = policy.get("default-src", [CSP.SELF])

    def add(directive: str, origins: tuple[str, ...], start: list[str]) -> None:
        values = policy.get(directive, list(start))
        policy[directive] = values + [origin for origin in origins if origin not in values]

    add("script-src", setup.script_origins, fallback)
    add("frame-src", setup.frame_origins, [])
    add("connect-src", setup.connect_origins, fallback)
    return policy


class ProviderScriptPolicyMiddleware:
    """Listed after Django's ContentSecurityPolicyMiddleware, so its answer is seen first: it sets the
    response's policy (``_csp_config``, which Django's middleware writes out) when cards are taken by
    the provider's script; a view that chose its own policy keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.SECURE_CSP and not hasattr(response, "_csp_config"):
            setup = card_browser_setup()
            if setup is not None:
                response._csp_config = provider_script_policy(settings.SECURE_CSP, setup)  # type: ignore[attr-defined]
        return response
