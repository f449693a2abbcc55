"""A customer's orders: the list, one order, its confirmation, receipt and credit notes as PDF,
and the return from the bank's confirmation step (a guest's gift refill's too)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from refill.esim.models import Profile
from refill.esim.newlines import waiting_context
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.orders.creditnotes import (
    credit_note_pdf,
    credit_notes_number,
    order_refund_summary,
    orders_refund_summaries,
)
from refill.orders.errors import payment_decline_message
from refill.orders.models import CreditNote, Order
from refill.orders.payable import orders_display_state, orders_superseded
from refill.orders.receipts import item_validity, order_reference, receipt_pdf
from refill.orders.settling import payment_abandon, payment_follow
from refill.payments.bank_step import bank_step
from refill.payments.models import Payment
from refill.payments.port import PROVIDER_WALLETS, ChargeStatus
from refill.promotions.texts import order_promotion_lines
from refill.renewals.gifts import gift_item, gift_order_for_token

from .payment_qr import qr_page
from .views import _customer, _owned_order, customer_orders


@login_required
def order_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    order = _owned_order(request, pk)
    if order.status != Order.Status.PAID:
        return redirect("portal:order_detail", pk=order.pk)
    return render(request, "portal/confirmation.html", _order_context(order))


def _order_context(order: Order) -> dict:
    item = order.items.select_related("plan").get()
    valid_from, valid_until = item_validity(item)
    return {
        "order": order,
        "item": item,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "payment": order.payments.order_by("-pk").first(),
        "paid_with": list(order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("method")),
        "in_progress": order.payments.filter(
            status__in=[Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]
        ).exists(),
        "awaiting_bank": (awaiting := order.payments.filter(status=Payment.Status.REQUIRES_ACTION).first()),
        # A payment app (Alipay, WeChat Pay...) waiting for the customer is named as itself.
        "awaiting_provider": PROVIDER_WALLETS.get(awaiting.card_brand) if awaiting is not None else None,
        "wallet_balance": wallet_balance(order.customer, order.currency),
        "receipt": getattr(order, "receipt", None),
        "promotions": order_promotion_lines(order),
        "esim_reinstall": _esim_gone(order.line),
        "esim_new": _esim_new(order),
        **(waiting_context(order.line) if order.line_id else {}),
    }


def _esim_new(order: Order) -> bool:
    """Whether this order was a new eSIM line's first payment (its eSIM is then installed)."""
    line = order.line
    return bool(
        line is not None
        and line.sim_type == Line.SimType.ESIM
        and line.status_changes.filter(from_status="pending", reference=f"order:{order.pk}").exists()
    )


def _esim_gone(line: Line | None) -> bool:
    """Whether the line's eSIM is no longer on a phone (deleted while the line was lapsed, or a
    failed installation): the renewal then offers to install it again. A renewal itself never
    touches the profile."""
    return bool(
        line is not None
        and line.sim_type == Line.SimType.ESIM
        and Profile.objects.filter(line=line, smdp_state__in=["deleted", "error"]).exists()
    )


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = list(
        customer_orders(_customer(request))
        .select_related("line", "receipt")
        .prefetch_related("items__plan")
        .order_by("-created_at", "-pk")[:100]
    )
    # What each order is now: refunded (how much, when), or not completed when it can no longer
    # be paid, rather than the status it was left in (issue 23).
    states = orders_display_state(orders)
    refunds = orders_refund_summaries([order for order in orders if order.status == Order.Status.PAID])
    for order in orders:
        order.display_state, order.refund_summary = states[order.pk], refunds.get(order.pk)
    return render(request, "portal/orders.html", {"orders": orders})


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _owned_order(request, pk)
    context = _order_context(order)
    payment = context["payment"]
    context["display_state"] = orders_display_state([order])[order.pk]
    context["refund_summary"] = order_refund_summary(order)
    context["superseded_by"] = orders_superseded([order]).get(order.pk)
    if payment is not None and payment.status == Payment.Status.FAILED and context["display_state"] != "not_completed":
        context["decline_text"] = payment_decline_message(payment)
    return render(request, "portal/order_detail.html", context)


@login_required
def order_credit_note_pdf(request: HttpRequest, pk: int, note: int) -> HttpResponse:
    order = _owned_order(request, pk)
    credit_notes_number()
    found = get_object_or_404(
        CreditNote.objects.select_related("refund__order__customer"), pk=note, refund__order=order
    )
    response = HttpResponse(credit_note_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="credit-note-{found.display_number}.pdf"'
    return response


@login_required
def order_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    order = _owned_order(request, pk)
    if order.status != Order.Status.PAID or not hasattr(order, "receipt"):
        raise Http404
    response = HttpResponse(receipt_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{order.receipt.display_number}.pdf"'
    return response


@login_required
def payment_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Back from the bank's confirmation step: settle the attempt and show how it ended. A payment
    made by scanning a QR code with the provider's app (WeChat Pay) is shown here until it ends."""
    order = _owned_order(request, pk)
    waiting = order.payments.filter(status=Payment.Status.REQUIRES_ACTION, method=Payment.Method.CARD).first()
    if waiting is not None:
        if _cancelled(request):
            waiting = payment_abandon(payment=waiting, actor=request.user)
        else:
            waiting, answer = payment_follow(payment=waiting, actor=request.user)
            if answer is not None and answer.status == ChargeStatus.REQUIRES_ACTION and answer.qr_code:
                return qr_page(request, order, waiting, answer)
        order.refresh_from_db()
        step = bank_step(request, order, waiting)
        if step is not None:
            return step
    if order.status == Order.Status.PAID:
        return redirect("portal:order_confirmation", pk=order.pk)
    return redirect("portal:order_detail", pk=order.pk)


def _cancelled(request: HttpRequest) -> bool:
    """Whether the payer came back by the provider's cancel address (``?cancelled=1``, which the
    PayPal adapter gives PayPal as its cancel_url; PayPal's order stays approvable after a buyer
    cancels there): the attempt is given up (``payment_abandon``), not looked up. Only the payer's
    own waiting attempt can be given up this way, and one already paid stays paid."""
    return request.GET.get("cancelled") == "1"


def gift_return(request: HttpRequest, token: str) -> HttpResponse:
    """A guest back from their bank's step for a gift refill (no account): settle the attempt and
    show what they paid for, and nothing else about the line."""
    order = gift_order_for_token(token)
    if order is None:
        raise Http404
    waiting = order.payments.filter(status=Payment.Status.REQUIRES_ACTION, method=Payment.Method.CARD).first()
    if waiting is not None:
        if _cancelled(request):
            waiting = payment_abandon(payment=waiting, actor=None)
        else:
            waiting, answer = payment_follow(payment=waiting, actor=None)
            if answer is not None and answer.status == ChargeStatus.REQUIRES_ACTION and answer.qr_code:
                return qr_page(request, order, waiting, answer, gift_token=token)
        order.refresh_from_db()
        step = bank_step(request, order, waiting)
        if step is not None:
            return step
    last = order.payments.filter(method=Payment.Method.CARD).order_by("-pk").first()
    context = {
        "order": order,
        "item": gift_item(order),
        "paid": order.status == Order.Status.PAID,
        # The receipt's number once paid (as the guest's email says), else the order's.
        "reference": order_reference(order),
        "declined": payment_decline_message(last) if last is not None and last.decline_code else "",
        # Try again (a guest's own gift): the same number and plan, a new payment (portal.refill_views).
        "again_token": token if order.payer == Order.Payer.GUEST else "",
        "bank_url": last.action_url if last is not None and last.status == Payment.Status.REQUIRES_ACTION else "",
    }
    return render(request, "portal/gift_return.html", context)
