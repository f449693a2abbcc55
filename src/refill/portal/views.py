from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refill.catalog.models import Plan
from refill.customers.models import LANGUAGE_CHOICES
from refill.integrations.payments.base import CardDetails, TokenizationError, get_gateway
from refill.lines.models import Line
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.renewals.errors import PaymentInProgress, RefillError, decline_message
from refill.renewals.services import order_create_renewal, order_pay_card, renewal_plans, renewal_quote
from refill.subscriptions.selectors import line_allowances, line_current_plan, lines_for_customer, period_current

from .forms import CardForm, PreferencesForm, RenewForm


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
    return render(request, "portal/landing.html")


def _line_card(line: Line, now) -> dict:
    days_left = None
    if line.period_end:
        days_left = max((line.period_end - now).days, 0) if line.period_end > now else 0
    return {
        "line": line,
        "plan": line_current_plan(line, now),
        "allowances": line_allowances(line, now),
        "days_left": days_left,
        "expiring_soon": line.status == "active" and days_left is not None and days_left <= 3,
        "current_period": period_current(line, now),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    customer = getattr(request.user, "customer", None)
    if customer is None:
        return render(request, "portal/no_customer.html")
    now = timezone.now()
    cards = [_line_card(line, now) for line in lines_for_customer(customer)]
    return render(request, "portal/home.html", {"cards": cards})


def _pick_plan(line: Line, plans: list[Plan], code: str | None) -> Plan | None:
    by_code = {plan.code: plan for plan in plans}
    if code and code in by_code:
        return by_code[code]
    return by_code.get(line.plan.code) or (plans[0] if plans else None)


def _parse_periods(raw) -> int:
    try:
        return max(int(raw), 1)
    except (TypeError, ValueError):
        return 1


def _renew_context(
    request, line, plans, plan, periods, *, form=None, card_form=None, error=None, key=None, decline=False
):
    quote = quote_error = None
    if plan is not None:
        try:
            quote = renewal_quote(line=line, plan=plan, periods=periods)
        except RefillError as exc:
            quote_error = str(exc)
    max_periods = plan.max_prepaid_periods if plan else 1
    if form is None:
        form = RenewForm(
            plans=plans,
            max_periods=max_periods,
            initial={
                "plan": plan.code if plan else None,
                "periods": periods,
                "idempotency_key": key or uuid.uuid4().hex,
            },
        )
    return {
        "line": line,
        "plans": plans,
        "plan": plan,
        "periods": periods,
        "quote": quote,
        "quote_error": quote_error,
        "form": form,
        "card_form": card_form or CardForm(),
        "error": error,
        "decline": decline,
        "current_plan": line_current_plan(line),
    }


@login_required
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    line = _owned_line(request, pk)
    plans = renewal_plans(line)
    if request.method != "POST":
        plan = _pick_plan(line, plans, request.GET.get("plan"))
        return render(
            request,
            "portal/renew.html",
            _renew_context(request, line, plans, plan, _parse_periods(request.GET.get("periods"))),
        )

    plan = _pick_plan(line, plans, request.POST.get("plan"))
    periods = _parse_periods(request.POST.get("periods"))
    form = RenewForm(request.POST, plans=plans, max_periods=plan.max_prepaid_periods if plan else 1)
    if request.POST.get("action") == "quote":
        key = request.POST.get("idempotency_key") or uuid.uuid4().hex
        return render(request, "portal/renew.html", _renew_context(request, line, plans, plan, periods, key=key))
    card_form = CardForm(request.POST)

    def context(**extra):
        return _renew_context(request, line, plans, plan, periods, form=form, card_form=card_form, **extra)

    if not form.is_valid() or not card_form.is_valid():
        return render(request, "portal/renew.html", context(), status=400)
    # The key names this form *and* this choice: a double click replays one order, while a
    # customer who changes plan after a decline gets a new order instead of a conflict.
    key = f"web:{form.cleaned_data['idempotency_key']}:{plan.code}:{periods}"
    try:
        order = order_create_renewal(
            customer=_customer(request),
            line=line,
            plan=plan,
            periods=periods,
            idempotency_key=key[:80],
            expected_total=form.cleaned_data.get("expected_total"),
            language=translation.get_language(),
            actor=request.user,
        )
    except RefillError as exc:
        return render(request, "portal/renew.html", context(error=str(exc)), status=409)
    if order.status == Order.Status.PAID:
        return redirect("portal:order_confirmation", pk=order.pk)

    month, year = card_form.cleaned_data["card_expiry"]
    gateway = get_gateway()
    try:
        token = gateway.tokenize(
            CardDetails(
                number=card_form.cleaned_data["card_number"],
                exp_month=month,
                exp_year=year,
                cvc=card_form.cleaned_data["card_cvc"],
                holder=card_form.cleaned_data.get("card_holder", ""),
            )
        )
        payment = order_pay_card(order=order, token=token, gateway=gateway, actor=request.user)
    except TokenizationError as exc:
        return render(request, "portal/renew.html", context(error=decline_message(exc.code), decline=True), status=402)
    except PaymentInProgress:
        return redirect("portal:order_detail", pk=order.pk)
    except RefillError as exc:
        return render(request, "portal/renew.html", context(error=str(exc)), status=409)
    if payment is None or payment.status == Payment.Status.SUCCEEDED:
        return redirect("portal:order_confirmation", pk=order.pk)
    if payment.status == Payment.Status.FAILED:
        return render(
            request, "portal/renew.html", context(error=decline_message(payment.decline_code), decline=True), status=402
        )
    return redirect("portal:order_detail", pk=order.pk)


@login_required
def renew_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """The price panel, re-rendered (htmx) when the plan or number of periods changes."""
    line = _owned_line(request, pk)
    plans = renewal_plans(line)
    plan = _pick_plan(line, plans, request.GET.get("plan"))
    return render(
        request,
        "portal/_quote.html",
        _renew_context(request, line, plans, plan, _parse_periods(request.GET.get("periods"))),
    )


@login_required
def order_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    order = _owned_order(request, pk)
    if order.status != Order.Status.PAID:
        return redirect("portal:order_detail", pk=order.pk)
    return render(request, "portal/confirmation.html", _order_context(order))


def _order_context(order: Order) -> dict:
    item = order.items.select_related("plan").get()
    periods = list(item.granted_periods.order_by("start"))
    return {
        "order": order,
        "item": item,
        "periods": periods,
        "valid_from": periods[0].start if periods else None,
        "valid_until": periods[-1].end if periods else None,
        "payment": order.payments.order_by("-pk").first(),
        "receipt": getattr(order, "receipt", None),
    }


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = (
        Order.objects.filter(customer=_customer(request))
        .select_related("line", "receipt")
        .prefetch_related("items__plan")
        .order_by("-created_at", "-pk")[:100]
    )
    return render(request, "portal/orders.html", {"orders": orders})


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _owned_order(request, pk)
    context = _order_context(order)
    payment = context["payment"]
    if payment is not None and payment.status == Payment.Status.FAILED:
        context["decline_text"] = decline_message(payment.decline_code)
    return render(request, "portal/order_detail.html", context)


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
    """Switch language; for a signed-in customer it is remembered on the account."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or reverse("portal:landing")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("portal:landing")
    response = redirect(next_url)
    if language not in dict(LANGUAGE_CHOICES):
        return response
    customer = getattr(request.user, "customer", None) if request.user.is_authenticated else None
    if customer is not None:
        customer.preferred_language = language
        customer.save(update_fields=["preferred_language"])
    response.set_cookie("refill_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
