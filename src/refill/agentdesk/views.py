"""The shop counter: an agent of a shop looks a number up, verifies the customer standing there
(their shop PIN or a code sent to the number), then renews it or sells it an add-on pass for cash
or card, takes cash for its
owner's wallet, redeems a refill PIN onto it or changes auto-renew, prints the receipt, and closes
the shop's drawer at the end of the day.

Until the customer is verified the agent sees only the number, its status and plan. A verification
lasts VERIFICATION_LIFETIME and is kept in the agent's session for that one line; every action on a
line refuses an unverified one (403). Agents see only their own shop's sales, receipts and closes.
Every action is audited by the service it calls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from refill.customers.models import User
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.errors import RefillError
from refill.formatting import money_text
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.orders.models import Order, OrderItem
from refill.payments.card_form import CardForm
from refill.payments.models import Payment
from refill.portal.forms import AddonForm
from refill.promotions.services import normalise_code
from refill.renewals.addons import addon_plan_pick, addon_plans, addon_quote, addon_validity, order_create_addon
from refill.renewals.autorenew import autorenew_settings, autorenew_update
from refill.renewals.checkout_choice import choice_key, choice_quote
from refill.renewals.errors import PriceChanged
from refill.renewals.services import (
    order_create_renewal,
    order_create_topup,
    order_pay_cash,
    periods_parse,
    renewal_plan_pick,
    renewal_plans,
)
from refill.vouchers.services import voucher_redeem

from .checkout import CARD_ACTIONS, PAY_ACTIONS, take_payment, wallet_offer
from .forms import (
    CashTopupForm,
    CodeForm,
    CounterAutoRenewForm,
    DrawerCloseForm,
    FindForm,
    PinForm,
    ShopPinForm,
    ShopRenewForm,
)
from .models import DrawerClose, ShopSale
from .services import (
    VERIFICATION_LIFETIME,
    LineNotVerified,
    NoShop,
    drawer_close,
    drawer_open,
    shop_of,
    shop_pin_verify,
    shop_sale_record,
    verification_code_check,
    verification_code_pending,
    verification_code_send,
)

# Numbers a shop may still serve (not released, not ported away).
LIVE_LINES = Line.objects.select_related("owner", "market", "plan").exclude(status__in=["available", "ported_out"])

# The one line this agent's session may serve, until when: {"line": pk, "shop": pk, "until": epoch}.
VERIFIED = "agentdesk.verified"


def agent_required(view=None, *, landing: bool = False):
    """Shop agents of an active shop only (staff are not agents). An agent without a shop is told
    why on the desk's landing page and refused (403) everywhere else. Sets ``request.shop``."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.role != User.Role.AGENT or user.is_staff:
                raise PermissionDenied
            shop = shop_of(user)
            if shop is None:
                status = 200 if landing and request.method == "GET" else 403
                return render(request, "agentdesk/no_shop.html", {"reason": NoShop().message}, status=status)
            request.shop = shop
            # Times on the desk's pages are the shop's (its market's zone), not the server's.
            with timezone.override(shop.market.time_zone):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _desk_url(line: Line) -> str:
    return f"{reverse('agentdesk:desk')}?{urlencode({'msisdn': line.msisdn})}"


def _shop_line(request: HttpRequest, pk: int) -> Line:
    """A live line of the shop's market; any other is not found."""
    return get_object_or_404(LIVE_LINES.filter(market=request.shop.market), pk=pk)


def _verified_until(request: HttpRequest, line: Line) -> datetime | None:
    held = request.session.get(VERIFIED) or {}
    if held.get("line") != line.pk or held.get("shop") != request.shop.pk:
        return None
    until = datetime.fromtimestamp(held.get("until", 0), tz=UTC)
    return until if until > timezone.now() else None


def _mark_verified(request: HttpRequest, line: Line) -> None:
    until = timezone.now() + VERIFICATION_LIFETIME
    request.session[VERIFIED] = {"line": line.pk, "shop": request.shop.pk, "until": until.timestamp()}
    messages.success(
        request,
        _("Customer verified. You can serve %(number)s for the next 15 minutes.") % {"number": line.msisdn_display},
    )


def verified_line(view):
    """Resolve the ``pk`` of a line of the shop's market and refuse (403) unless this session
    verified its customer in the last VERIFICATION_LIFETIME."""

    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        line = _shop_line(request, pk)
        if _verified_until(request, line) is None:
            context = {"reason": LineNotVerified().message, "line": line, "desk_url": _desk_url(line)}
            return render(request, "agentdesk/refused.html", context, status=403)
        return view(request, line, *args, **kwargs)

    return wrapper


def _find(raw: str, shop) -> Line | None:
    try:
        number = normalize_msisdn(raw, shop.market.region)
    except InvalidIdentifier:
        return None
    return LIVE_LINES.filter(msisdn=number, market=shop.market).first()


@agent_required(landing=True)
def desk(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.GET or None)
    line = _find(form.cleaned_data["msisdn"], request.shop) if form.is_valid() else None
    if form.is_valid() and line is None:
        form.add_error("msisdn", _("We could not find that phone number. Check it and try again."))
    verified_until = _verified_until(request, line) if line is not None else None
    context = {"form": form, "line": line, "shop": request.shop, "verified_until": verified_until}
    if line is not None and verified_until is None:
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
    line = _shop_line(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, missing)
        return redirect(_desk_url(line))
    try:
        check(line=line, shop=request.shop, agent=request.user, given=form.cleaned_data[field])
    except RefillError as exc:
        messages.error(request, str(exc))
    else:
        _mark_verified(request, line)
    return redirect(_desk_url(line))


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
    line = _shop_line(request, pk)
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
    return redirect(_desk_url(line))


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
    return redirect(_desk_url(line))


@require_POST
@agent_required
@verified_line
def cash_topup(request: HttpRequest, line: Line) -> HttpResponse:
    form = CashTopupForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_desk_url(line))
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
        return redirect(_desk_url(line))
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
    return redirect(_desk_url(line))


# --- renewals -----------------------------------------------------------------------------------


def _renew_choice(line: Line, data):
    """The plans on offer and the plan, periods and promotion code asked for."""
    plans = renewal_plans(line)
    plan = renewal_plan_pick(line, plans, data.get("plan"))
    periods = periods_parse(data.get("periods"))
    code = normalise_code(str(data.get("promotion_code", ""))[:64])
    return plans, plan, periods, code


def _renew_context(line: Line, plans, plan, periods: int, code: str) -> dict:
    """The price panel and the payment buttons for this choice (the page, and htmx's refresh)."""
    quote = quote_error = code_error = None
    if plan is not None:
        # The price at the counter: channel "shop" (its own promotions).
        priced = choice_quote(line=line, plan=plan, periods=periods, code=code, channel="shop")
        quote, quote_error, code_error = priced.quote, priced.error, priced.code_error
    # Up to the most any plan on offer allows, so that the list need not change with the plan (it
    # is not swapped under the agent's hand); more than the chosen plan allows is said by the quote.
    max_periods = max([candidate.max_prepaid_periods for candidate in plans] + [1])
    return {
        "line": line,
        "plans": plans,
        "plan": plan,
        "periods": periods,
        "period_choices": [(n, str(n)) for n in range(1, max_periods + 1)],
        "code": code,
        "quote": quote,
        "quote_error": quote_error or ("" if plans else _("No plan can be sold for this number.")),
        "code_error": code_error,
        "wallet": wallet_offer(line, quote.quote.total.amount if quote else None),
    }


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@agent_required
@verified_line
def renew(request: HttpRequest, line: Line) -> HttpResponse:
    """Renew the verified line: choose a plan and periods, see the shop price (refreshed as the
    choice changes, by htmx; without script by "Update price", or on paying), then take cash, pay
    from the customer's wallet, or charge a card typed at the counter (tokenised by the gateway at
    once, never stored or shown), the wallet first if the agent chooses."""
    data = request.POST if request.method == "POST" else request.GET
    action = data.get("action", "")
    paying = request.method == "POST" and action in PAY_ACTIONS
    plans, plan, periods, code = _renew_choice(line, data)
    card_form = CardForm(request.POST if paying and action in CARD_ACTIONS else None, keep_number=False)
    form = ShopRenewForm(
        request.POST if paying else None,
        plans=plans,
        max_periods=plan.max_prepaid_periods if plan else 1,
        initial={"idempotency_key": data.get("idempotency_key") or uuid.uuid4().hex},
    )

    def page(status: int = 200, error: str = "", fresh_key: bool = False, repriced: bool = False) -> HttpResponse:
        key = uuid.uuid4().hex if fresh_key else (data.get("idempotency_key") or form.initial["idempotency_key"])
        context = {
            **_renew_context(line, plans, plan, periods, code),
            "card_form": card_form,
            "idempotency_key": key,
            "error": error,
            "repriced": repriced,
        }
        return render(request, "agentdesk/renew.html", context, status=status)

    if not paying:
        return page()
    if plan is None or not form.is_valid() or (action in CARD_ACTIONS and not card_form.is_valid()):
        # The card fields show their own errors; the plan and periods' errors are said here.
        return page(status=400, error=" ".join(str(e) for errors in form.errors.values() for e in errors))
    # The key names this form *and* this choice: a double click replays one order, while a change
    # of plan after a decline makes a new order instead of a conflict.
    choice = choice_key(plan.code, periods, code, limit=30)
    try:
        order = order_create_renewal(
            customer=line.owner,
            line=line,
            plan=plan,
            periods=periods,
            idempotency_key=f"shop:{request.user.pk}:{form.cleaned_data['idempotency_key']}:{choice}"[:80],
            expected_total=form.cleaned_data.get("expected_total"),
            language=line.owner.preferred_language,
            actor=request.user,
            promotion_code=code,
            channel="shop",
        )
    except PriceChanged:
        # The price on the button was for another choice (the plan or periods were changed and the
        # price not refreshed: no script), or it moved meanwhile. Nothing was taken: show this
        # choice's price and let the agent confirm it with the customer.
        return page(repriced=True)
    except RefillError as exc:
        return page(status=409, error=str(exc))
    shop_sale_record(order=order, shop=request.shop, agent=request.user)
    refusal = take_payment(request, order, action, card_form)
    if refusal is not None:
        status, error, fresh_key = refusal
        return page(status=status, error=error, fresh_key=fresh_key)
    order.refresh_from_db()
    messages.success(
        request,
        _("%(number)s renewed: %(amount)s paid. Receipt %(receipt)s.")
        % {
            "number": line.msisdn_display,
            "amount": money_text(order.total, order.currency),
            "receipt": order.receipt.display_number,
        },
    )
    return redirect("agentdesk:receipt", pk=order.pk)


@agent_required
@verified_line
def renew_quote(request: HttpRequest, line: Line) -> HttpResponse:
    """The price panel for the plan, periods and code now chosen, with the payment buttons swapped
    beside it (htmx, on every change of the choice)."""
    plans, plan, periods, code = _renew_choice(line, request.GET)
    context = {**_renew_context(line, plans, plan, periods, code), "oob": True}
    return render(request, "agentdesk/_renew_price.html", context)


# --- add-on passes ------------------------------------------------------------------------------


def _addon_context(line: Line, plans, plan) -> dict:
    """The passes on offer, the price panel and the payment buttons for the pass chosen."""
    quote = quote_error = None
    if plan is not None:
        try:
            quote = addon_quote(line=line, plan=plan)
        except RefillError as exc:
            quote_error = str(exc)
    currency = line.market.currency
    return {
        "line": line,
        "offers": [{"plan": p, "price": p.current_price(currency)} for p in plans],
        "plan": plan,
        "quote": quote,
        "quote_error": quote_error or ("" if plans else _("No add-on can be sold for this number.")),
        "wallet": wallet_offer(line, quote.quote.total.amount if quote else None),
    }


@agent_required
@verified_line
def addon_price(request: HttpRequest, line: Line) -> HttpResponse:
    """The add-on's price panel and payment buttons for the pass now chosen (htmx)."""
    plans = addon_plans(line)
    context = _addon_context(line, plans, addon_plan_pick(plans, request.GET.get("plan")))
    return render(request, "agentdesk/_addon_price.html", context)


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@agent_required
@verified_line
def sell_addon(request: HttpRequest, line: Line) -> HttpResponse:
    """Sell an add-on pass for the verified line's running period, paid exactly as a renewal is
    at the counter (cash, the customer's wallet, a card typed there; one order per form, a
    ShopSale with the pass's commission, the receipt)."""
    data = request.POST if request.method == "POST" else request.GET
    plans = addon_plans(line)
    plan = addon_plan_pick(plans, data.get("plan"))
    action = data.get("action", "")
    paying = request.method == "POST" and action in PAY_ACTIONS
    card_form = CardForm(request.POST if paying and action in CARD_ACTIONS else None, keep_number=False)
    form = AddonForm(
        request.POST if paying else None,
        plans=plans,
        initial={"idempotency_key": data.get("idempotency_key") or uuid.uuid4().hex},
    )

    def page(status: int = 200, error: str = "", fresh_key: bool = False, repriced: bool = False) -> HttpResponse:
        key = uuid.uuid4().hex if fresh_key else (data.get("idempotency_key") or form.initial["idempotency_key"])
        context = {
            **_addon_context(line, plans, plan),
            "repriced": repriced,
            "card_form": card_form,
            "idempotency_key": key,
            "error": error,
        }
        return render(request, "agentdesk/addon.html", context, status=status)

    if not paying:
        return page()
    if plan is None or not form.is_valid() or (action in CARD_ACTIONS and not card_form.is_valid()):
        return page(status=400, error=" ".join(str(e) for errors in form.errors.values() for e in errors))
    # The key names this form *and* this pass: a double click replays one order, while another
    # pass chosen after a decline makes a new order instead of a conflict.
    chosen = choice_key(plan.code, limit=24)
    try:
        order = order_create_addon(
            customer=line.owner,
            line=line,
            plan=plan,
            idempotency_key=f"shop-addon:{request.user.pk}:{form.cleaned_data['idempotency_key']}:{chosen}"[:80],
            expected_total=form.cleaned_data.get("expected_total"),
            language=line.owner.preferred_language,
            actor=request.user,
            channel="shop",
        )
    except PriceChanged:
        # Another pass was chosen without refreshing the price, or the price moved: nothing taken.
        return page(repriced=True)
    except RefillError as exc:
        return page(status=409, error=str(exc))
    shop_sale_record(order=order, shop=request.shop, agent=request.user)
    refusal = take_payment(request, order, action, card_form)
    if refusal is not None:
        status, error, fresh_key = refusal
        return page(status=status, error=error, fresh_key=fresh_key)
    order.refresh_from_db()
    messages.success(
        request,
        _("%(addon)s added to %(number)s: %(amount)s paid. Receipt %(receipt)s.")
        % {
            "addon": plan.name,
            "number": line.msisdn_display,
            "amount": money_text(order.total, order.currency),
            "receipt": order.receipt.display_number,
        },
    )
    return redirect("agentdesk:receipt", pk=order.pk)


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
    from refill.orders.receipts import receipt_context

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
    from refill.orders.receipts import receipt_pdf as render_pdf

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
    from datetime import datetime

    from .services import commission_statement

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
