"""The customer 360 pages: find a customer, see everything about them, and act for them. Every
action asks for a reason and is audited by the service it calls."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from refill.audit.services import audit_record
from refill.customers.models import Customer
from refill.customers.privacy import customer_is_erased
from refill.customers.staff import require_perm
from refill.errors import RefillError
from refill.esim.services import esim_reissue
from refill.formatting import day_text
from refill.lines.models import Line
from refill.notifications.tasks import resend_order_confirmation
from refill.orders.models import Order
from refill.renewals.autorenew import autorenew_update
from refill.renewals.goodwill import order_create_goodwill
from refill.subscriptions.models import Bucket
from refill.subscriptions.services import bucket_adjust

from .customer360 import customer_360, customers_find


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class AutoRenewActionForm(ReasonForm):
    enabled = forms.BooleanField(required=False)


class BucketActionForm(ReasonForm):
    change = forms.IntegerField(label=gettext_lazy("Change (+ or −)"), min_value=-10_000_000, max_value=10_000_000)


class GoodwillActionForm(ReasonForm):
    periods = forms.TypedChoiceField(
        label=pgettext_lazy("number of periods", "Periods"), coerce=int, choices=[(n, str(n)) for n in (1, 2, 3)]
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


@require_perm("backoffice.view_customer")
def customers_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    found = customers_find(query)
    if len(found) == 1 and query:
        return redirect("backoffice:customer", pk=found[0].pk)
    return render(request, "backoffice/customers.html", {"query": query, "found": found})


@require_perm("backoffice.view_customer")
def customer_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    can_act = request.user.has_perm("backoffice.act_for_customer")
    view = customer_360(customer, goodwill=can_act, show_all=request.GET.get("all", ""))
    for item in view.lines:
        # One key per form shown: a double click or a resent form gives the extension once.
        item.goodwill_key = uuid.uuid4().hex
    context = {
        "view": view,
        "reason_form": ReasonForm(),
        "bucket_form": BucketActionForm(),
        "can_act": can_act,
        "can_refund": request.user.has_perm("orders.add_refund"),
        "can_statement": request.user.has_perm("ledger.view_journalentry"),
        "erased": customer_is_erased(customer),
    }
    return render(request, "backoffice/customer.html", context)


def _owned_line(customer_pk: int, line_pk: int) -> Line:
    return get_object_or_404(Line.objects.select_related("market", "owner"), pk=line_pk, owner_id=customer_pk)


def _refused(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@require_perm("backoffice.act_for_customer")
@require_POST
def customer_autorenew(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    line = _owned_line(pk, line_pk)
    form = AutoRenewActionForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
    else:
        autorenew_update(
            line=line, actor=request.user, reason=form.cleaned_data["reason"], enabled=form.cleaned_data["enabled"]
        )
        messages.success(request, _("Auto-renew saved."))
    return redirect("backoffice:customer", pk=pk)


@require_perm("backoffice.act_for_customer")
@require_POST
def customer_bucket(request: HttpRequest, pk: int, bucket_pk: int) -> HttpResponse:
    bucket = get_object_or_404(Bucket, pk=bucket_pk, line__owner_id=pk)
    form = BucketActionForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
    else:
        try:
            bucket_adjust(
                bucket=bucket,
                change=form.cleaned_data["change"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except RefillError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Allowance adjusted."))
    return redirect("backoffice:customer", pk=pk)


@require_perm("backoffice.act_for_customer")
@require_POST
def customer_resend_receipt(request: HttpRequest, pk: int, order_pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=order_pk, customer_id=pk, status=Order.Status.PAID)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
        return redirect("backoffice:customer", pk=pk)
    with transaction.atomic():
        event = audit_record(
            actor=request.user, action="order.receipt_resent", obj=order, reason=form.cleaned_data["reason"]
        )
        # Enqueued with the audit row: sent once per request, by the worker.
        resend_order_confirmation.enqueue(order.pk, str(event.pk))
    messages.success(request, _("The receipt is on its way to the customer."))
    return redirect("backoffice:customer", pk=pk)


@require_perm("backoffice.act_for_customer")
@require_POST
def customer_esim_reissue(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    line = _owned_line(pk, line_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
        return redirect("backoffice:customer", pk=pk)
    try:
        # The SM-DP+ is called outside any transaction; the reason is recorded once it answered.
        order = esim_reissue(line=line, actor=request.user)
        audit_record(
            actor=request.user,
            action="esim.reissue_for_customer",
            obj=line,
            reason=form.cleaned_data["reason"],
            data={"esim_order": order.pk},
        )
    except RefillError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("A new activation code was made and sent to the customer."))
    return redirect("backoffice:customer", pk=pk)


@require_perm("backoffice.act_for_customer")
@require_POST
def customer_goodwill(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    line = _owned_line(pk, line_pk)
    form = GoodwillActionForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
        return redirect("backoffice:customer", pk=pk)
    try:
        order = order_create_goodwill(
            line=line,
            periods=form.cleaned_data["periods"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
            idempotency_key=f"goodwill:{form.cleaned_data['idempotency_key']}",
        )
    except RefillError as exc:
        messages.error(request, str(exc))
    else:
        line.refresh_from_db(fields=["period_end"])
        messages.success(
            request,
            _("Goodwill extension given (order %(order)s): %(number)s is now valid until %(end)s.")
            % {"order": order.pk, "number": line.msisdn_display, "end": day_text(line.period_end)},
        )
    return redirect("backoffice:customer", pk=pk)
