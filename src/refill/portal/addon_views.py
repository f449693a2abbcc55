"""Add-on passes: buy a pass for the line's running period, priced like a renewal and paid the
same ways."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.debug import sensitive_post_parameters

from refill.catalog.models import Plan
from refill.lines.models import Line
from refill.orders.errors import AddonLineNotRunning, RefillError
from refill.payments.card_form import card_page
from refill.renewals.addons import addon_plan_pick, addon_plans, addon_quote, order_create_addon
from refill.renewals.checkout_choice import choice_key
from refill.subscriptions.grants import addon_cut_at, addon_line_running, periods_running
from refill.subscriptions.selectors import line_current_plan

from .checkout_pay import checkout_pay, pay_choice, pay_oob
from .forms import AddonForm, CardForm
from .pay_methods import checkout_pay_context
from .views import _customer, _owned_line, line_validity


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
        # A pass the period's end cuts short says until when it runs, not its own length.
        "offers": [
            {
                "plan": p,
                "price": p.current_price(currency, now),
                "cut_at": addon_cut_at(line, p, period, now) if running and period is not None else None,
            }
            for p in plans
        ],
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
        "validity": line_validity(line, now),
        **checkout_pay_context(line, quote, pay_with, card_form),
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
        pay_with = pay_choice(request, line.owner).pay_with
        kept = {"key": key, "card_form": CardForm.kept(request.POST), "pay_with": pay_with}
        return render(request, "portal/addons.html", _addon_context(line, plans, plan, **kept))
    form = AddonForm(request.POST, plans=plans)
    choice = pay_choice(request, line.owner)

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
    return checkout_pay(request, order, choice, page)


@login_required
def addon_quote_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The add-on price panel, re-rendered (htmx) when another pass or another way to pay is chosen
    ("wallet first, the rest by card" shows what each pays); the ways to pay too after another pass."""
    line = _owned_line(request, pk)
    plans = addon_plans(line)
    plan = addon_plan_pick(plans, request.GET.get("plan"))
    context = _addon_context(line, plans, plan, pay_with=request.GET.get("pay_with"))
    extra = {"oob": True, **pay_oob(request, reverse("portal:addon_quote", args=[line.pk]))}
    return render(request, "portal/_addon_quote.html", {**context, **extra})
