"""The customer's account pages: preferences and language, saved payment methods, redeeming a
refill PIN, and privacy (download my data, delete my account)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from refill.customers.models import LANGUAGE_CHOICES
from refill.customers.privacy import ErasureRefused, ExportTooSoon, customer_erase, customer_export, erasure_blockers
from refill.fleets.middleware import is_viewer
from refill.formatting import money_text
from refill.orders.errors import RefillError, decline_message
from refill.payments.card_form import card_page
from refill.payments.models import PaymentMethod
from refill.payments.port import TokenizationError
from refill.payments.services import method_add, method_remove, method_set_role, methods_for
from refill.vouchers.services import voucher_redeem

from .forms import CardForm, PreferencesForm, RedeemForm
from .views import _customer


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    form = PreferencesForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        form.save()
        translation.activate(customer.preferred_language)
        messages.success(request, _("Your preferences were saved."))
        response = redirect("portal:preferences")
        response.set_cookie("refill_language", customer.preferred_language, max_age=365 * 24 * 3600, samesite="Lax")
        return response
    return render(request, "portal/preferences.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language; for a signed-in customer it is remembered on the account (a business's
    viewer's only in their browser)."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or reverse("portal:landing")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("portal:landing")
    response = redirect(next_url)
    if language not in dict(LANGUAGE_CHOICES):
        return response
    customer = getattr(request.user, "customer", None) if request.user.is_authenticated else None
    if customer is not None and not is_viewer(request.user):
        # A business's viewer switches their own pages only (the cookie): the business's language,
        # in which it is notified, is its administrator's to set.
        customer.preferred_language = language
        customer.save(update_fields=["preferred_language"])
    response.set_cookie("refill_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: a proxy that sets it correctly is the deployment's job (see docs/operating.md).
    return request.META.get("REMOTE_ADDR") or None


@sensitive_post_parameters("pin")
@login_required
def redeem(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    form = RedeemForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            voucher = voucher_redeem(
                pin=form.cleaned_data["pin"],
                customer=customer,
                ip=_client_ip(request),
                gift_msisdn=form.cleaned_data["gift_msisdn"],
                actor=request.user,
            )
        except RefillError as exc:
            error = str(exc)
        else:
            amount = money_text(voucher.face_value, voucher.currency)
            if voucher.gift_line_id:
                messages.success(
                    request,
                    _("%(amount)s was added to %(number)s.")
                    % {"amount": amount, "number": voucher.gift_line.msisdn_display},
                )
            else:
                messages.success(request, _("%(amount)s was added to your wallet.") % {"amount": amount})
            return redirect("portal:wallet")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/redeem.html", {"form": form, "error": error}, status=status)


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@card_page
@login_required
def payment_methods(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    card_form = CardForm(request.POST or None) if request.POST.get("action") == "add" else CardForm()
    error = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add":
                if card_form.is_valid():
                    method_add(
                        customer=customer,
                        card=card_form.card_details(),
                        actor=request.user,
                    )
                    messages.success(request, _("The card was saved."))
                    return redirect("portal:payment_methods")
            else:
                # Looked up through its owner: another customer's method is simply not found.
                method = get_object_or_404(
                    PaymentMethod, pk=request.POST.get("method"), customer=customer, removed_at__isnull=True
                )
                if action == "remove":
                    method_remove(method=method, actor=request.user)
                elif action in ("default", "backup"):
                    method_set_role(method=method, role=action, actor=request.user)
                return redirect("portal:payment_methods")
        except TokenizationError as exc:
            error = decline_message(exc.code)
        except RefillError as exc:
            error = str(exc)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/payment_methods.html",
        {"methods": methods_for(customer), "card_form": card_form, "error": error},
        status=status,
    )


@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    """Download my data, and delete my account (anonymise: docs/privacy.md)."""
    customer = _customer(request)
    return render(request, "portal/privacy.html", {"blockers": erasure_blockers(customer)})


@require_POST
@login_required
def privacy_export(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    try:
        data = customer_export(customer=customer, actor=request.user)
    except ExportTooSoon as exc:
        messages.error(request, str(exc))
        return redirect("portal:privacy")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="refill-my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters("password")
@require_POST
@login_required
def privacy_erase(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    if request.POST.get("confirm") != "yes" or not request.user.check_password(request.POST.get("password", "")):
        messages.error(request, _("Enter your password and tick the box to confirm."))
        return redirect("portal:privacy")
    try:
        customer_erase(customer=customer, actor=request.user)
    except ErasureRefused as exc:
        messages.error(request, str(exc))
        return redirect("portal:privacy")
    logout(request)
    messages.success(
        request,
        _(
            "Your account was deleted. Your personal details are gone; we keep only the records of "
            "payments that the law requires."
        ),
    )
    return redirect("portal:landing")
