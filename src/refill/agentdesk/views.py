"""The shop counter: find a number, take cash for its owner's wallet, redeem a refill PIN onto it.
Only shop agents (and staff) get here; every action is audited by the service it calls."""

from __future__ import annotations

import uuid
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from refill.customers.models import User
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.errors import RefillError
from refill.formatting import money_text
from refill.lines.models import Line
from refill.portal.forms import AutoRenewForm
from refill.renewals.autorenew import autorenew_settings, autorenew_update
from refill.renewals.services import order_create_topup, order_pay_cash
from refill.vouchers.services import voucher_redeem

# Numbers a shop may still serve (not released, not ported away).
LIVE_LINES = Line.objects.select_related("owner", "market").exclude(status__in=["available", "ported_out"])


def agent_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.role == User.Role.AGENT or request.user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class FindForm(forms.Form):
    msisdn = forms.CharField(label=gettext_lazy("Phone number"), max_length=24)


class CashTopupForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("Cash received"), min_value=0, max_digits=10, decimal_places=2)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class PinForm(forms.Form):
    pin = forms.CharField(label=gettext_lazy("Refill PIN"), max_length=40)


def _find(raw: str) -> Line | None:
    try:
        number = normalize_msisdn(raw, settings.REFILL_DEFAULT_REGION)
    except InvalidIdentifier:
        return None
    return (
        Line.objects.select_related("owner", "market", "plan")
        .filter(msisdn=number)
        .exclude(status__in=["available", "ported_out"])
        .first()
    )


@agent_required
def desk(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.GET or None)
    line = _find(form.cleaned_data["msisdn"]) if form.is_valid() else None
    if form.is_valid() and line is None:
        form.add_error("msisdn", _("We could not find that phone number. Check it and try again."))
    context = {
        "form": form,
        "line": line,
        "cash_form": CashTopupForm(initial={"idempotency_key": uuid.uuid4().hex}),
        "pin_form": PinForm(),
        "auto_renew_form": AutoRenewForm(instance=autorenew_settings(line)) if line is not None else None,
    }
    return render(request, "agentdesk/desk.html", context)


@agent_required
def auto_renew(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer at the counter asks to turn auto-renew on or off, or change its caps."""
    line = get_object_or_404(LIVE_LINES, pk=pk)
    form = AutoRenewForm(request.POST or None, instance=autorenew_settings(line))
    if request.method == "POST" and form.is_valid():
        autorenew_update(line=line, actor=request.user, **{name: form.cleaned_data[name] for name in form.fields})
        messages.success(request, _("Auto-renew settings saved."))
    elif request.method == "POST":
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(f"/agent/?msisdn={line.msisdn}")


@agent_required
def cash_topup(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(LIVE_LINES, pk=pk)
    form = CashTopupForm(request.POST)
    if request.method == "POST" and form.is_valid():
        try:
            order = order_create_topup(
                customer=line.owner,
                market=line.market,
                amount=form.cleaned_data["amount"],
                idempotency_key=f"agent:{request.user.pk}:{form.cleaned_data['idempotency_key']}",
                actor=request.user,
            )
            order_pay_cash(order=order, agent=request.user)
        except RefillError as exc:
            messages.error(request, str(exc))
        else:
            order.refresh_from_db()
            messages.success(
                request,
                _("%(amount)s added to the wallet of %(number)s. Receipt %(receipt)s.")
                % {
                    "amount": money_text(order.total, order.currency),
                    "number": line.msisdn_display,
                    "receipt": order.receipt.display_number,
                },
            )
    return redirect(f"/agent/?msisdn={line.msisdn}")


@sensitive_post_parameters("pin")
@agent_required
def redeem_pin(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(LIVE_LINES, pk=pk)
    form = PinForm(request.POST)
    if request.method == "POST" and form.is_valid():
        try:
            voucher = voucher_redeem(
                pin=form.cleaned_data["pin"],
                customer=line.owner,
                ip=request.META.get("REMOTE_ADDR"),
                gift_msisdn=line.msisdn,
                actor=request.user,
                count_misses_for=None,
            )
        except RefillError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("%(amount)s was added to %(number)s.")
                % {"amount": money_text(voucher.face_value, voucher.currency), "number": line.msisdn_display},
            )
    return redirect(f"/agent/?msisdn={line.msisdn}")
