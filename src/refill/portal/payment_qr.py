"""Paying by scanning a QR code with the provider's app (WeChat Pay through Stripe): Refill shows
the code on its own page, drawn here as inline SVG (no image from elsewhere, nothing for the
Content-Security-Policy to allow), and the page follows the payment until it is paid (the
receipt), refused or expired (the order's page with why, and Try again), or given up.

The QR page is the order's return address (``order_views.payment_return``) while the provider says
the customer still has to act; it asks ``payment-status`` every few seconds (htmx; without script
the page refreshes itself), which asks the provider through ``orders.settling.payment_follow``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from refill.orders.models import Order
from refill.orders.settling import payment_abandon, payment_follow
from refill.payments.models import Payment
from refill.payments.port import PROVIDER_WALLETS, ChargeResult, ChargeStatus
from refill.renewals.gifts import gift_order_for_token

from .views import _owned_order

# Seconds between two questions to the provider while the customer pays in the app.
POLL_SECONDS = 3


def qr_svg(data: str) -> str:
    """``data`` as a QR code in inline SVG, sized by CSS (the eSIM and TOTP codes are drawn alike)."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, omitsize=True, svgclass="qr-code"
    )
    return buffer.getvalue().decode()


def waiting_payment(order: Order) -> Payment | None:
    """The order's provider attempt still waiting for the customer, if any."""
    return order.payments.filter(status=Payment.Status.REQUIRES_ACTION, method=Payment.Method.CARD).first()


def qr_page(
    request: HttpRequest, order: Order, payment: Payment, answer: ChargeResult, *, gift_token: str = ""
) -> HttpResponse:
    """The page with the QR code to scan (and, on a phone, the button that opens the app). A guest's
    gift refill (no account) follows its payment through its own unguessable address."""
    if gift_token:
        status_url = reverse("portal:gift_payment_status", args=[gift_token])
        cancel_url = reverse("portal:gift_payment_cancel", args=[gift_token])
    else:
        status_url = reverse("portal:payment_status", args=[order.pk])
        cancel_url = reverse("portal:payment_cancel", args=[order.pk])
    return render(
        request,
        "portal/payment_qr.html",
        {
            "order": order,
            "payment": payment,
            "provider": PROVIDER_WALLETS.get(payment.card_brand, payment.card_brand),
            "qr_svg": qr_svg(answer.qr_code),
            "app_url": answer.app_url,
            "poll_seconds": POLL_SECONDS,
            "status_url": status_url,
            "cancel_url": cancel_url,
            "number": line.msisdn_display if (line := order.gift_line if gift_token else order.line) else "",
        },
    )


def _follow(request: HttpRequest, order: Order, status_url: str, done: Callable[[], str], actor) -> HttpResponse:
    """Polled by the QR page: still waiting (the same small fragment, to ask again), or where to go
    now that the provider has an answer (``done()``, asked once the payment is settled)."""
    payment = waiting_payment(order)
    if payment is not None:
        payment, answer = payment_follow(payment=payment, actor=actor)
        if answer is None or answer.status == ChargeStatus.REQUIRES_ACTION:
            # Still waiting (or the provider did not answer this time): ask again in a moment.
            return render(
                request, "portal/_payment_waiting.html", {"status_url": status_url, "poll_seconds": POLL_SECONDS}
            )
    url = done()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _after_url(order: Order) -> str:
    """Where a payment that is no longer waiting sends its owner: the receipt when paid, else the
    order's page (why it failed and Try again, or that it is being confirmed)."""
    order.refresh_from_db()
    name = "portal:order_confirmation" if order.status == Order.Status.PAID else "portal:order_detail"
    return reverse(name, args=[order.pk])


@login_required
def payment_status(request: HttpRequest, pk: int) -> HttpResponse:
    order = _owned_order(request, pk)
    return _follow(request, order, reverse("portal:payment_status", args=[pk]), lambda: _after_url(order), request.user)


@login_required
@require_POST
def payment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer chose not to pay this way: the attempt is cancelled at the provider (so paying
    later in the app cannot charge) and they can pay another way at once."""
    order = _owned_order(request, pk)
    payment = waiting_payment(order)
    if payment is not None:
        payment_abandon(payment=payment, actor=request.user)
    return redirect(_after_url(order))


def gift_payment_status(request: HttpRequest, token: str) -> HttpResponse:
    """``payment_status`` for a guest's gift refill, found by its return token alone."""
    order = gift_order_for_token(token)
    if order is None:
        raise Http404
    status_url = reverse("portal:gift_payment_status", args=[token])
    return _follow(request, order, status_url, lambda: reverse("portal:gift_return", args=[token]), None)


@require_POST
def gift_payment_cancel(request: HttpRequest, token: str) -> HttpResponse:
    order = gift_order_for_token(token)
    if order is None:
        raise Http404
    payment = waiting_payment(order)
    if payment is not None:
        payment_abandon(payment=payment, actor=None)
    return redirect("portal:gift_return", token=token)
