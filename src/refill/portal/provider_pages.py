"""Sending a customer to a provider's page after a checkout's POST (Alipay's cashier, a bank's
3-D Secure page). The Content-Security-Policy's ``form-action 'self'`` stops a form's answer from
redirecting to another origin, so the answer is a page of Refill's that moves on at once (meta
refresh, and a link to follow without it): the policy stays as strict as it is, and no provider's
origin has to be listed in it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from refill.payments.models import Payment
from refill.payments.port import PROVIDER_WALLETS


def provider_redirect(request: HttpRequest, url: str, payment: Payment | None = None) -> HttpResponse:
    """Send the customer to ``url`` after a checkout's POST: a redirect when it is Refill's own page
    (the sandbox's stand-ins, the QR page), else a page that moves on by itself (see above)."""
    if url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return redirect(url)
    provider = PROVIDER_WALLETS.get(payment.card_brand, "") if payment is not None else ""
    return render(request, "portal/provider_redirect.html", {"url": url, "provider": provider})
