from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from refill.catalog.models import Plan
from refill.customers.models import LANGUAGE_CHOICES
from refill.esim.newlines import checkout_plans, waiting_context
from refill.fleets.middleware import is_viewer
from refill.formatting import money_text
from refill.integrations.payments.base import TokenizationError
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.lines.selectors import line_lapse_deadlines, line_queued
from refill.orders.creditnotes import (
    credit_note_pdf,
    credit_notes_number,
    order_refund_summary,
    orders_refund_summaries,
)
from refill.orders.models import CreditNote, Order
from refill.orders.payable import orders_display_state, orders_superseded
from refill.payments.card_form import card_page
from refill.payments.models import Payment
from refill.payments.services import methods_for
from refill.promotions.services import normalise_code
from refill.promotions.texts import order_promotion_lines
from refill.renewals.addons import (
    AddonLineNotRunning,
    addon_line_running,
    addon_plan_pick,
    addon_plans,
    addon_quote,
    item_validity,
    order_create_addon,
    periods_running,
)
from refill.renewals.checkout_choice import choice_key, choice_quote
from refill.renewals.errors import PaymentInProgress, RefillError, decline_message
from refill.renewals.services import (
    PayWith,
    order_create_renewal,
    order_pay,
    payment_resume,
    periods_parse,
    renewal_plan_pick,
)
from refill.subscriptions.selectors import line_allowances, line_current_plan, lines_for_customer, period_current
from refill.vouchers.services import voucher_redeem

from .forms import AddonForm, AutoRenewForm, CardForm, PreferencesForm, RedeemForm, RenewForm
from .pay_methods import checkout_pay_context, provider_wallets
from .refill_views import landing_markets


def _customer(request: HttpRequest):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404
    return customer


def _owned_line(request: HttpRequest, pk: int) -> Line:
    # Every object is looked up through its owner: another customer's line is simply not found.
    return get_object_or_404(Line.objects.select_related("market", "plan"), pk=pk, owner=_customer(request))


def _owned_order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(Order.objects.select_related("line", "line__market"), pk=pk, customer=_customer(request))


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and getattr(request.user, "customer", None):
        return redirect("portal:home")
    return render(request, "portal/landing.html", {"markets": landing_markets()})


def _line_card(line: Line, now) -> dict:
    """A line as its card shows it. An active line speaks of the period running now (its plan,
    end and buckets); periods paid ahead are "next", not folded into one long validity."""
    current = period_current(line, now)
    running = line.status in ("active", "retained")  # a kept number may have a plan queued too
    queued = line_queued(line, now) if running else None
    # The running period's own end; the line's (the last paid period's) when nothing is queued.
    valid_until = current.end if current is not None and running else line.period_end
    days_left = None
    if valid_until:
        days_left = max((valid_until - now).days, 0) if valid_until > now else 0
    service_days = max((line.period_end - now).days, 0) if line.period_end and line.period_end > now else 0
    return {
        "line": line,
        "plan": current.plan if current else line.plan,
        "allowances": line_allowances(line, now),
        "valid_until": valid_until,
        "ended": valid_until is not None and valid_until <= now,
        "days_left": days_left,
        "queued": queued,
        # "Ends soon" is about the service, not the period: a queued period keeps the line running.
        "expiring_soon": line.status == "active" and line.period_end is not None and service_days <= 3,
        "current_period": current,
        "auto_renew": hasattr(line, "auto_renew") and line.auto_renew.enabled,
        "deadlines": line_lapse_deadlines(line),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    customer = getattr(request.user, "customer", None)
    if customer is None:
        return render(request, "portal/no_customer.html")
    now = timezone.now()
    lines = lines_for_customer(customer)
    cards = [_line_card(line, now) for line in lines]
    # "Buy an add-on" is offered on lines in service whose market sells add-ons (one query).
    selling = set(
        Plan.objects.filter(kind=Plan.Kind.ADDON, is_active=True, market__in={line.market_id for line in lines})
        .order_by()
        .values_list("market_id", flat=True)
        .distinct()
    )
    for card in cards:
        line = card["line"]
        card["addons"] = line.market_id in selling and line.status in ("active", "retained")
    return render(request, "portal/home.html", {"cards": cards})


def _renew_context(
    request,
    line,
    plans,
    plan,
    periods,
    *,
    form=None,
    card_form=None,
    error=None,
    key=None,
    decline=False,
    pay_with=None,
    code="",
):
    quote = quote_error = code_error = None
    if plan is not None:
        priced = choice_quote(line=line, plan=plan, periods=periods, code=code, channel="web")
        quote, quote_error, code_error = priced.quote, priced.error, priced.code_error
    max_periods = plan.max_prepaid_periods if plan else 1
    if form is None:
        form = RenewForm(
            plans=plans,
            max_periods=max_periods,
            initial={
                "plan": plan.code if plan else None,
                "periods": periods,
                "idempotency_key": key or uuid.uuid4().hex,
                "promotion_code": code,
            },
        )
    return {
        "code": code,
        "code_error": code_error,
        "line": line,
        "plans": plans,
        "plan": plan,
        "periods": periods,
        "quote": quote,
        "quote_error": quote_error,
        "form": form,
        "error": error,
        "decline": decline,
        "current_plan": line_current_plan(line),
        # Every plan card shows its price now (per period), as the add-on page does.
        "offers": [{"plan": p, "price": p.current_price(line.market.currency)} for p in plans],
        **_pay_context(line, quote, pay_with, card_form),
    }


def _pay_context(line: Line, quote, pay_with: str | None, card_form: CardForm | None) -> dict:
    """What the "How to pay" part of a checkout shows (portal/_pay_with.html): portal.pay_methods."""
    return checkout_pay_context(line, quote, pay_with, card_form)


@dataclass
class PayChoice:
    """How the customer chose to pay on a checkout form: ``pay_with`` as posted (card, wallet,
    wallet_card, a provider wallet, or saved-<pk>), and what it names."""

    pay_with: str
    provider: str
    saved_method: Any
    card_form: CardForm | None


def _pay_choice(request: HttpRequest, customer) -> PayChoice:
    pay_with = request.POST.get("pay_with", "card")
    saved = {f"saved-{m.pk}": m for m in methods_for(customer)}
    wallets = provider_wallets()
    if pay_with not in {"card", "wallet", "wallet_card", *wallets, *saved}:
        pay_with = "card"
    return PayChoice(
        pay_with=pay_with,
        provider=pay_with if pay_with in wallets else "",
        saved_method=saved.get(pay_with),
        card_form=CardForm(request.POST) if pay_with in {"card", "wallet_card"} else None,
    )


def _typed_code(data) -> str:
    return normalise_code(str(data.get("promotion_code", ""))[:64])


@dataclass
class PayOutcome:
    payment: Payment | None = None
    error: str | None = None
    decline: bool = False
    in_progress: bool = False
    redirect_to: str = ""


def _pay(
    request: HttpRequest,
    order: Order,
    *,
    card_form: CardForm | None,
    use_wallet: bool = False,
    provider: str = "",
    saved_method=None,
) -> PayOutcome:
    """Pay ``order`` by card (after the wallet's share if ``use_wallet``) or, without a card form,
    from the wallet alone. Shared by renewals and wallet top-ups."""
    card = card_form.card_details() if card_form is not None else None
    try:
        payment = order_pay(
            order=order,
            pay_with=PayWith(card=card, saved_method=saved_method, provider_wallet=provider, use_wallet=use_wallet),
            actor=request.user,
            return_url=request.build_absolute_uri(reverse("portal:payment_return", args=[order.pk])),
        )
    except TokenizationError as exc:
        return PayOutcome(error=decline_message(exc.code), decline=True)
    except PaymentInProgress:
        return PayOutcome(in_progress=True)
    except RefillError as exc:
        return PayOutcome(error=str(exc))
    if payment is not None and payment.status == Payment.Status.FAILED:
        return PayOutcome(payment=payment, error=decline_message(payment.decline_code), decline=True)
    if payment is not None and payment.status == Payment.Status.UNKNOWN:
        return PayOutcome(payment=payment, in_progress=True)
    if payment is not None and payment.status == Payment.Status.REQUIRES_ACTION:
        return PayOutcome(payment=payment, redirect_to=payment.action_url)
    return PayOutcome(payment=payment)


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@card_page
@login_required
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    line = _owned_line(request, pk)
    plans = checkout_plans(line)
    if request.method != "POST":
        plan = renewal_plan_pick(line, plans, request.GET.get("plan"))
        periods = periods_parse(request.GET.get("periods"))
        return render(
            request,
            "portal/renew.html",
            _renew_context(request, line, plans, plan, periods, code=_typed_code(request.GET)),
        )

    plan = renewal_plan_pick(line, plans, request.POST.get("plan"))
    periods = periods_parse(request.POST.get("periods"))
    code = _typed_code(request.POST)
    form = RenewForm(request.POST, plans=plans, max_periods=plan.max_prepaid_periods if plan else 1)
    if request.POST.get("action") == "quote":
        # A code applied: the page again with the card as typed (not its security code).
        key = request.POST.get("idempotency_key") or uuid.uuid4().hex
        pay_with = _pay_choice(request, line.owner).pay_with
        kept = {"key": key, "code": code, "card_form": CardForm.kept(request.POST), "pay_with": pay_with}
        return render(request, "portal/renew.html", _renew_context(request, line, plans, plan, periods, **kept))
    choice = _pay_choice(request, line.owner)
    pay_with, card_form = choice.pay_with, choice.card_form

    def context(**extra):
        return _renew_context(
            request, line, plans, plan, periods, form=form, card_form=card_form, pay_with=pay_with, code=code, **extra
        )

    if not form.is_valid() or (card_form is not None and not card_form.is_valid()):
        return render(request, "portal/renew.html", context(), status=400)
    # The key names this form *and* this choice: a double click replays one order, while a
    # customer who changes plan or code after a decline gets a new order instead of a conflict.
    chosen = choice_key(plan.code, periods, code, limit=40)
    try:
        order = order_create_renewal(
            customer=_customer(request),
            line=line,
            plan=plan,
            periods=periods,
            idempotency_key=f"web:{form.cleaned_data['idempotency_key']}:{chosen}"[:80],
            expected_total=form.cleaned_data.get("expected_total"),
            language=translation.get_language(),
            actor=request.user,
            promotion_code=code,
            channel="web",
        )
    except RefillError as exc:
        return render(request, "portal/renew.html", context(error=str(exc)), status=409)
    return _checkout_pay(request, order, choice, lambda **extra: render(request, "portal/renew.html", context(**extra)))


def _checkout_pay(request: HttpRequest, order: Order, choice: PayChoice, page) -> HttpResponse:
    """Pay a checkout's order the way ``choice`` says and answer: the confirmation, the bank's or
    provider's page, the order's page while the payment is confirmed, or the checkout ``page``
    again with why it was not paid (``page(error=..., decline=...)``). Shared by renewals and
    add-ons."""
    if order.status == Order.Status.PAID:
        return redirect("portal:order_confirmation", pk=order.pk)
    outcome = _pay(
        request,
        order,
        card_form=choice.card_form,
        use_wallet=choice.pay_with == "wallet_card",
        provider=choice.provider,
        saved_method=choice.saved_method,
    )
    if outcome.redirect_to:
        return redirect(outcome.redirect_to)  # the bank's confirmation step or the provider's page
    if outcome.in_progress:
        return redirect("portal:order_detail", pk=order.pk)
    if outcome.error:
        response = page(error=outcome.error, decline=outcome.decline)
        response.status_code = 402 if outcome.decline else 409
        return response
    return redirect("portal:order_confirmation", pk=order.pk)


@login_required
def auto_renew(request: HttpRequest, pk: int) -> HttpResponse:
    """The line's auto-renew settings: on or off, spending caps, which ways to pay."""
    from refill.renewals.autorenew import autorenew_settings, autorenew_update
    from refill.renewals.autorenew_settings import autorenew_next
    from refill.renewals.models import AutoRenew

    line = _owned_line(request, pk)
    settings = autorenew_settings(line)
    form = AutoRenewForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        autorenew_update(line=line, actor=request.user, **form.changes())
        messages.success(request, _("Auto-renew settings saved."))
        return redirect("portal:auto_renew", pk=line.pk)
    context = {
        "line": line,
        "form": form,
        "methods": methods_for(line.owner),
        "currency": line.market.currency,
        "upcoming": autorenew_next(line),
        "auto_renew_on": settings.pk is not None and AutoRenew.objects.filter(pk=settings.pk, enabled=True).exists(),
        "recent": line.renewal_attempts.exclude(status="due").order_by("-due_at")[:5],
    }
    return render(request, "portal/auto_renew.html", context, status=400 if form.errors else 200)


@login_required
def renew_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """The price panel, re-rendered (htmx) when the plan, the number of periods or the way to pay
    changes ("wallet first, the rest by card" shows what each pays)."""
    line = _owned_line(request, pk)
    plans = checkout_plans(line)
    plan = renewal_plan_pick(line, plans, request.GET.get("plan"))
    periods = periods_parse(request.GET.get("periods"))
    pay_with = request.GET.get("pay_with")
    context = _renew_context(request, line, plans, plan, periods, code=_typed_code(request.GET), pay_with=pay_with)
    # The pay button's amount is swapped out of band, next to the price panel, and so are the ways
    # to pay when the total may have changed (_pay_oob).
    extra = {"oob": True, **_pay_oob(request, reverse("portal:renew_quote", args=[line.pk]))}
    return render(request, "portal/_quote.html", {**context, **extra})


# The ways-to-pay fieldset's id (portal/_pay_options.html): htmx names it in HX-Trigger when the
# customer chose another way to pay.
PAY_FIELDSET = "pay-with"


def _pay_oob(request: HttpRequest, quote_url: str) -> dict:
    """What a price panel answer adds so the ways to pay follow a new total: when the plan, the
    periods, the code or the pass changed (htmx sends the asking fieldset's id as HX-Trigger), the
    list re-rendered for that total, swapped out of band, the chosen way kept if still usable (else
    the rule's first usable one). Not when the ways-to-pay fieldset asked: the total did not
    change, and replacing the radio just used would take the customer's focus away."""
    if request.headers.get("HX-Trigger") == PAY_FIELDSET:
        return {}
    return {"pay_oob": True, "pay_quote_url": quote_url}


# --- add-on passes --------------------------------------------------------------------------------


def _addon_context(
    line: Line,
    plans: list[Plan],
    plan: Plan | None,
    *,
    form: AddonForm | None = None,
    card_form: CardForm | None = None,
    pay_with: str | None = None,
    key: str | None = None,
    error: str | None = None,
    decline: bool = False,
) -> dict:
    now = timezone.now()
    period = periods_running([line.pk], now).get(line.pk)
    running = addon_line_running(line, period, now)
    quote = quote_error = None
    if plan is not None and running:
        try:
            quote = addon_quote(line=line, plan=plan, now=now)
        except RefillError as exc:
            quote_error = str(exc)
    if form is None:
        form = AddonForm(
            plans=plans, initial={"plan": plan.code if plan else None, "idempotency_key": key or uuid.uuid4().hex}
        )
    currency = line.market.currency
    return {
        "line": line,
        "plans": plans,
        "offers": [{"plan": p, "price": p.current_price(currency, now)} for p in plans],
        "plan": plan,
        "period": period if running else None,
        "running": running,
        "not_running": "" if running else str(AddonLineNotRunning.message),
        "quote": quote,
        "quote_error": quote_error,
        "form": form,
        "error": error,
        "decline": decline,
        "current_plan": line_current_plan(line, now),
        **_pay_context(line, quote, pay_with, card_form),
    }


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@card_page
@login_required
def addons(request: HttpRequest, pk: int) -> HttpResponse:
    """Buy an add-on pass for the line's running period: choose one, see its price and until when
    it lasts, pay as for a renewal (card, saved card, wallet, wallet and card)."""
    line = _owned_line(request, pk)
    plans = addon_plans(line)
    if request.method != "POST":
        plan = addon_plan_pick(plans, request.GET.get("plan"))
        return render(request, "portal/addons.html", _addon_context(line, plans, plan))

    plan = addon_plan_pick(plans, request.POST.get("plan"))
    if request.POST.get("action") == "quote":
        key = request.POST.get("idempotency_key") or uuid.uuid4().hex
        pay_with = _pay_choice(request, line.owner).pay_with
        kept = {"key": key, "card_form": CardForm.kept(request.POST), "pay_with": pay_with}
        return render(request, "portal/addons.html", _addon_context(line, plans, plan, **kept))
    form = AddonForm(request.POST, plans=plans)
    choice = _pay_choice(request, line.owner)

    def page(status: int = 200, **extra) -> HttpResponse:
        context = _addon_context(
            line, plans, plan, form=form, card_form=choice.card_form, pay_with=choice.pay_with, **extra
        )
        return render(request, "portal/addons.html", context, status=status)

    if plan is None or not form.is_valid() or (choice.card_form is not None and not choice.card_form.is_valid()):
        return page(status=400)
    # The key names this form *and* this pass: a double click replays one order, while another
    # pass chosen after a decline makes a new order instead of a conflict.
    chosen = choice_key(plan.code, limit=30)
    try:
        order = order_create_addon(
            customer=_customer(request),
            line=line,
            plan=plan,
            idempotency_key=f"web-addon:{form.cleaned_data['idempotency_key']}:{chosen}"[:80],
            expected_total=form.cleaned_data.get("expected_total"),
            language=translation.get_language(),
            actor=request.user,
            channel="web",
        )
    except RefillError as exc:
        return page(status=409, error=str(exc))
    return _checkout_pay(request, order, choice, page)


@login_required
def addon_quote_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The add-on price panel, re-rendered (htmx) when another pass or another way to pay is chosen
    ("wallet first, the rest by card" shows what each pays); the ways to pay too after another pass."""
    line = _owned_line(request, pk)
    plans = addon_plans(line)
    plan = addon_plan_pick(plans, request.GET.get("plan"))
    context = _addon_context(line, plans, plan, pay_with=request.GET.get("pay_with"))
    extra = {"oob": True, **_pay_oob(request, reverse("portal:addon_quote", args=[line.pk]))}
    return render(request, "portal/_addon_quote.html", {**context, **extra})


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
        "awaiting_bank": order.payments.filter(status=Payment.Status.REQUIRES_ACTION).first(),
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
    from refill.esim.models import Profile

    return bool(
        line is not None
        and line.sim_type == Line.SimType.ESIM
        and Profile.objects.filter(line=line, smdp_state__in=["deleted", "error"]).exists()
    )


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = list(
        Order.objects.filter(customer=_customer(request))
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
        context["decline_text"] = decline_message(payment.decline_code)
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


@login_required
def order_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from refill.orders.receipts import receipt_pdf

    order = _owned_order(request, pk)
    if order.status != Order.Status.PAID or not hasattr(order, "receipt"):
        raise Http404
    response = HttpResponse(receipt_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{order.receipt.display_number}.pdf"'
    return response


@login_required
def payment_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Back from the bank's confirmation step: settle the attempt and show how it ended."""
    order = _owned_order(request, pk)
    waiting = order.payments.filter(status=Payment.Status.REQUIRES_ACTION, method=Payment.Method.CARD).first()
    if waiting is not None:
        payment_resume(payment=waiting, actor=request.user)
        order.refresh_from_db()
    if order.status == Order.Status.PAID:
        return redirect("portal:order_confirmation", pk=order.pk)
    return redirect("portal:order_detail", pk=order.pk)


def gift_return(request: HttpRequest, token: str) -> HttpResponse:
    """A guest back from their bank's step for a gift refill (no account): settle the attempt and
    show what they paid for, and nothing else about the line."""
    from refill.renewals.gifts import gift_item, gift_order_for_token

    order = gift_order_for_token(token)
    if order is None:
        raise Http404
    waiting = order.payments.filter(status=Payment.Status.REQUIRES_ACTION, method=Payment.Method.CARD).first()
    if waiting is not None:
        payment_resume(payment=waiting, actor=None)
        order.refresh_from_db()
    last = order.payments.filter(method=Payment.Method.CARD).order_by("-pk").first()
    context = {
        "order": order,
        "item": gift_item(order),
        "paid": order.status == Order.Status.PAID,
        "declined": decline_message(last.decline_code) if last is not None and last.decline_code else "",
        # Try again (a guest's own gift): the same number and plan, a new payment (portal.refill_views).
        "again_token": token if order.payer == Order.Payer.GUEST else "",
        "bank_url": last.action_url if last is not None and last.status == Payment.Status.REQUIRES_ACTION else "",
    }
    return render(request, "portal/gift_return.html", context)


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@card_page
@login_required
def payment_methods(request: HttpRequest) -> HttpResponse:
    from refill.payments.models import PaymentMethod
    from refill.payments.services import method_add, method_remove, method_set_role

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
    from refill.customers.privacy import erasure_blockers

    customer = _customer(request)
    return render(request, "portal/privacy.html", {"blockers": erasure_blockers(customer)})


@require_POST
@login_required
def privacy_export(request: HttpRequest) -> HttpResponse:
    import json

    from refill.customers.privacy import ExportTooSoon, customer_export

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
    from django.contrib.auth import logout

    from refill.customers.privacy import ErasureRefused, customer_erase

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
