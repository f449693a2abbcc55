"""The sandbox's stand-in for a bank's 3-D Secure page. A real provider hosts this page itself;
the sandbox serves it from Refill so the redirect-and-return flow runs end to end offline. It exists
only while the sandbox gateway is configured (production refuses the sandbox)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from refill.integrations.payments.base import PROVIDER_WALLETS, ChargeStatus, DeclineCode

from .models import Payment, SandboxCharge


def sandbox_confirm(request: HttpRequest, reference: str) -> HttpResponse:
    if settings.REFILL_PAYMENT_GATEWAY != "sandbox":
        raise Http404
    charge = get_object_or_404(SandboxCharge, reference=reference)
    # Only the customer who is paying sees their bank's page; a guest paying a gift refill has no
    # account (nor does a partner's customer), and like a real bank's page theirs is reached by its
    # unguessable reference alone.
    payer = ~Q(order__payer="owner")
    customer = getattr(request.user, "customer", None)
    if customer is not None:
        payer |= Q(order__customer=customer)
    payment = Payment.objects.filter(payer, idempotency_key=charge.idempotency_key).first()
    if payment is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    back = charge.return_url if url_has_allowed_host_and_scheme(charge.return_url, {request.get_host()}) else "/"
    if request.method == "POST" and charge.status == ChargeStatus.REQUIRES_ACTION:
        if request.POST.get("decision") == "approve":
            charge.status, charge.decline_code = ChargeStatus.SUCCEEDED, ""
        else:
            charge.status, charge.decline_code = ChargeStatus.FAILED, DeclineCode.AUTHENTICATION_FAILED
        charge.save(update_fields=["status", "decline_code"])
        return redirect(back)
    if request.method == "POST":
        return redirect(back)
    return render(
        request,
        "payments/sandbox_confirm.html",
        {"charge": charge, "payment": payment, "provider_name": PROVIDER_WALLETS.get(payment.card_brand, "")},
    )
