"""The shop counter: an agent of a shop looks a number up, verifies the customer standing there
(their shop PIN or a code sent to the number), then renews it or sells it an add-on pass for cash
or card, takes cash for its
owner's wallet, redeems a refill PIN onto it or changes auto-renew, prints the receipt, and closes
the shop's drawer at the end of the day.

Until the customer is verified the agent sees only the number, its status and plan. A verification
lasts VERIFICATION_LIFETIME and is kept in the agent's session for that one line; every action on a
line refuses an unverified one (403). Agents see only their own shop's sales, receipts and closes.
Every action is audited by the service it calls.

Who may serve which line is decided in ``access``; renewals and add-on passes are sold in
``sale_views``; this module has the desk, the verification, cash, refill PINs, auto-renew, receipts,
the drawer and the commission."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from refill.errors import RefillError
from refill.formatting import money_text
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.orders.models import Order, OrderItem
from refill.orders.paying import order_pay_cash
from refill.orders.receipts import receipt_context
from refill.orders.receipts import receipt_pdf as render_pdf
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment
from refill.renewals.autorenew import autorenew_settings, autorenew_update
from refill.subscriptions.grants import addon_validity
from refill.vouchers.services import voucher_redeem

from .access import (
    VERIFIED,
    agent_required,
    desk_url,
    find_line,
    mark_verified,
    shop_line,
    verified_line,
    verified_until,
)
from .forms import (
    CashTopupForm,
    CodeForm,
    CounterAutoRenewForm,
    DrawerCloseForm,
    FindForm,
    PinForm,
    ShopPinForm,
)
from .models import DrawerClose, ShopSale
from .services import (
    commission_statement,
    drawer_close,
    drawer_open,
    shop_pin_verify,
    shop_sale_record,
    verification_code_check,
    verification_code_pending,
    verification_code_send,
)


@agent_required(landing=True)
def desk(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.GET or None)
    line = find_line(form.cleaned_data["msisdn"], request.shop) if form.is_valid() else None
    if form.is_valid() and line is None:
        form.add_error("msisdn", _("We could not find that phone number. Check it and try again."))
    until = verified_until(request, line) if line is not None else None
    context = {"form": form, "line": line, "shop": request.shop, "verified_until": until}
    if line is not None and until is None:
        context.update(
            shop_pin_form=ShopPinForm(),
            code_form=CodeForm(),
            code_pending=verification_code_pending(line=line, shop=request.shop),
        )
    elif line is not None:
        context.update(
            wallet=wallet_balance(line.owner, line.market.currency),
            cash_form=CashTopupForm(initial={"idempotency_key": uuid.uuid4().hex}),
            pin_form=PinForm(),
            auto_renew_form=CounterAutoRenewForm(instance=autorenew_settings(line)),
        )
    return render(request, "agentdesk/desk.html", context)


def _verify(request: HttpRequest, pk: int, form_class, field: str, missing: str, check) -> HttpResponse:
    """Check what the customer gave (``field`` of ``form_class``) with ``check``; verified, the line
    may be served for a while."""
    line = shop_line(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, missing)
        return redirect(desk_url(line))
    try:
        check(line=line, shop=request.shop, agent=request.user, given=form.cleaned_data[field])
    except RefillError as exc:
        messages.error(request, str(exc))
    else:
        mark_verified(request, line)
    return redirect(desk_url(line))


@sensitive_post_parameters("shop_pin")
@require_POST
@agent_required
def verify_pin(request: HttpRequest, pk: int) -> HttpResponse:
    def check(*, given, **who):
        shop_pin_verify(pin=given, **who)

    return _verify(request, pk, ShopPinForm, "shop_pin", _("Ask the customer to type their shop PIN."), check)


@require_POST
@agent_required
def send_code(request: HttpRequest, pk: int) -> HttpResponse:
    line = shop_line(request, pk)
    try:
        verification_code_send(line=line, shop=request.shop, agent=request.user)
    except RefillError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("A code was sent by SMS to %(number)s. Ask the customer to read it out.")
            % {"number": line.msisdn_display},
        )
    return redirect(desk_url(line))


@sensitive_post_parameters("code")
@require_POST
@agent_required
def verify_code(request: HttpRequest, pk: int) -> HttpResponse:
    def check(*, given, **who):
        verification_code_check(code=given, **who)

    return _verify(request, pk, CodeForm, "code", _("Enter the code from the SMS."), check)


@require_POST
@agent_required
def finish(request: HttpRequest) -> HttpResponse:
    """The customer has left: forget the verification."""
    request.session.pop(VERIFIED, None)
    return redirect("agentdesk:desk")


@agent_required
@verified_line
def auto_renew(request: HttpRequest, line: Line) -> HttpResponse:
    """The customer at the counter asks to turn auto-renew on or off, or change its caps."""
    form = CounterAutoRenewForm(request.POST or None, instance=autorenew_settings(line))
    if request.method == "POST" and form.is_valid():
        autorenew_update(line=line, actor=request.user, **form.changes())
        messages.success(request, _("Auto-renew settings saved."))
    elif request.method == "POST":
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(desk_url(line))


@require_POST
@agent_required
@verified_line
def cash_topup(request: HttpRequest, line: Line) -> HttpResponse:
    form = CashTopupForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(desk_url(line))
    try:
        order = order_create_topup(
            customer=line.owner,
            market=line.market,
            amount=form.cleaned_data["amount"],
            idempotency_key=f"agent:{request.user.pk}:{form.cleaned_data['idempotency_key']}",
            language=line.owner.preferred_language,
            actor=request.user,
        )
        shop_sale_record(order=order, shop=request.shop, agent=request.user)
        order_pay_cash(order=order, agent=request.user)
    except RefillError as exc:
        messages.error(request, str(exc))
        return redirect(desk_url(line))
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
    return redirect("agentdesk:receipt", pk=order.pk)


@sensitive_post_parameters("pin")
@require_POST
@agent_required
@verified_line
def redeem_pin(request: HttpRequest, line: Line) -> HttpResponse:
    form = PinForm(request.POST)
    if form.is_valid():
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
    return redirect(desk_url(line))


# --- receipts -----------------------------------------------------------------------------------


def _shop_order(request: HttpRequest, pk: int) -> Order:
    """An order made at this agent's shop that has a receipt; any other is not found."""
    sale = get_object_or_404(
        ShopSale.objects.select_related("order__customer", "order__line", "order__receipt"),
        order_id=pk,
        shop=request.shop,
    )
    order = sale.order
    if not hasattr(order, "receipt"):
        raise Http404
    return order


LAYOUTS = ("thermal", "a4")


@agent_required
def receipt(request: HttpRequest, pk: int, layout: str = "thermal") -> HttpResponse:
    """The receipt of a sale at this shop, laid out for an 80 mm thermal roll or A4, printed from
    the browser. The receipt itself is in the customer's language and time zone."""
    order = _shop_order(request, pk)
    customer = order.customer
    # The context's words (promotion names, what they gave) are put in the customer's language
    # when they are made, so it is made inside the override too.
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        context = receipt_context(order)
        if context["item"].kind == OrderItem.Kind.ADDON:
            # A pass grants buckets, not periods: it is valid as long as they are.
            context["valid_from"], context["valid_until"] = addon_validity(context["item"])
        body = render_to_string("agentdesk/_receipt_body.html", {**context, "shop": request.shop, "layout": layout})
    context = {
        "order": order,
        "layout": layout,
        "body": body,
        "receipt_language": "zh-Hans" if customer.preferred_language == "zh-hans" else "en",
    }
    return render(request, "agentdesk/receipt.html", context)


@agent_required
def receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The A4 receipt as the customer gets it by email (the same template and context)."""
    order = _shop_order(request, pk)
    response = HttpResponse(render_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{order.receipt.display_number}.pdf"'
    return response


# --- the drawer ---------------------------------------------------------------------------------


@agent_required
def drawer(request: HttpRequest) -> HttpResponse:
    """End of day: the agent counts the cash in the drawer and enters it, without being shown what
    it should be (a blind count); the close then shows expected, counted and the difference."""
    shop = request.shop
    form = DrawerCloseForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            close = drawer_close(
                shop=shop,
                agent=request.user,
                counted=form.cleaned_data["counted"],
                note=form.cleaned_data["note"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except RefillError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Drawer closed."))
            return redirect("agentdesk:drawer_close_detail", pk=close.pk)
    sales = drawer_open(shop)[1]
    context = {
        "shop": shop,
        "form": form,
        "cash_sales": sum(1 for sale in sales if _paid_in_cash(sale)),
        "sales": len(sales),
        "last_close": DrawerClose.objects.filter(shop=shop).first(),
    }
    return render(request, "agentdesk/drawer.html", context, status=400 if form.errors else 200)


def _paid_in_cash(sale: ShopSale) -> bool:
    return any(
        payment.method == Payment.Method.CASH and payment.status == Payment.Status.SUCCEEDED
        for payment in sale.order.payments.all()
    )


@agent_required
def drawer_closes(request: HttpRequest) -> HttpResponse:
    closes = DrawerClose.objects.filter(shop=request.shop).select_related("agent")[:200]
    return render(request, "agentdesk/drawer_closes.html", {"shop": request.shop, "closes": closes})


@agent_required
def drawer_close_detail(request: HttpRequest, pk: int) -> HttpResponse:
    close = get_object_or_404(DrawerClose.objects.select_related("agent"), pk=pk, shop=request.shop)
    sales = (
        close.sales.select_related("order__receipt", "agent")
        .prefetch_related("order__payments")
        .order_by("created_at", "pk")
    )
    rows = [{"sale": sale, "cash": _paid_in_cash(sale)} for sale in sales]
    return render(request, "agentdesk/drawer_close.html", {"shop": request.shop, "close": close, "rows": rows})


@agent_required
def commission(request: HttpRequest) -> HttpResponse:
    """The agent's commission statement for a month (this month unless ``?month=YYYY-MM``), in the
    shop's time zone: their paid counter sales and what each earned, with totals per currency."""

    today = timezone.localdate()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        first = datetime(year, month, 1)
    except ValueError:
        first = datetime(today.year, today.month, 1)
    following = datetime(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = timezone.get_current_timezone()
    sales = commission_statement(
        agent=request.user,
        month_start=timezone.make_aware(first, zone),
        month_end=timezone.make_aware(following, zone),
    )
    totals: dict[str, Decimal] = {}
    for sale in sales:
        totals[sale.order.currency] = totals.get(sale.order.currency, Decimal(0)) + sale.commission
    previous = datetime(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    context = {
        "shop": request.shop,
        "sales": sales,
        "totals": totals,
        "month": first,
        "previous": f"{previous:%Y-%m}",
        "next": f"{following:%Y-%m}" if following.date() <= today else "",
    }
    return render(request, "agentdesk/commission.html", context)
