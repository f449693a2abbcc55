"""The bank's step (3-D Secure) carried out in the page by the payment provider's own script
(Stripe.js), for every return address that settles a card attempt (the portal's, the guest refill's,
a fleet's batch payment): docs/payments.md, "Stripe", 3-D Secure."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Payment
from .selectors import card_browser_setup, provider_browser_action


def bank_step(request: HttpRequest, order, payment: Payment) -> HttpResponse | None:
    """The page that has the provider's script show the bank's confirmation, when the provider asks
    for that instead of sending the customer to its own page; the script then comes back to this
    same address with ``?after=1`` for the answer. Once back, or when there is no such step, None:
    the caller shows how the order stands (an attempt the customer abandoned is cancelled by
    reconciliation after 30 minutes)."""
    if payment.status != Payment.Status.REQUIRES_ACTION or request.GET.get("after"):
        return None
    secret = provider_browser_action(payment=payment)
    setup = card_browser_setup()
    if not secret or setup is None:
        return None
    context = {"order": order, "browser": setup, "secret": secret, "return_url": request.path}
    response = render(request, "portal/bank_step.html", context)
    # The page holds the attempt's client secret: never kept by a cache or the browser's history.
    response["Cache-Control"] = "no-store"
    return response
