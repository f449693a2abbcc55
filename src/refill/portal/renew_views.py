"""The renew page: choose a plan and how many periods, see the price (re-priced by htmx as the
choice changes, or by "Update price" without script), and pay."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.debug import sensitive_post_parameters

from refill.esim.newlines import checkout_plans
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import RefillError
from refill.orders.pricing import periods_parse, renewal_plan_pick
from refill.payments.card_form import card_page
from refill.renewals.checkout_choice import choice_key, choice_quote
from refill.subscriptions.selectors import line_current_plan

from .checkout_pay import checkout_pay, pay_choice, pay_oob, typed_code
from .forms import CardForm, RenewForm
from .pay_methods import checkout_pay_context
from .views import _customer, _owned_line, line_validity


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
        "validity": line_validity(line, timezone.now()),
        # Every plan card shows its price now (per period), as the add-on page does.
        "offers": [{"plan": p, "price": p.current_price(line.market.currency)} for p in plans],
        **checkout_pay_context(line, quote, pay_with, card_form),
    }


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
            _renew_context(request, line, plans, plan, periods, code=typed_code(request.GET)),
        )

    plan = renewal_plan_pick(line, plans, request.POST.get("plan"))
    periods = periods_parse(request.POST.get("periods"))
    code = typed_code(request.POST)
    form = RenewForm(request.POST, plans=plans, max_periods=plan.max_prepaid_periods if plan else 1)
    if request.POST.get("action") == "quote":
        # A code applied: the page again with the card as typed (not its security code).
        key = request.POST.get("idempotency_key") or uuid.uuid4().hex
        pay_with = pay_choice(request, line.owner).pay_with
        kept = {"key": key, "code": code, "card_form": CardForm.kept(request.POST), "pay_with": pay_with}
        return render(request, "portal/renew.html", _renew_context(request, line, plans, plan, periods, **kept))
    choice = pay_choice(request, line.owner)
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
    return checkout_pay(request, order, choice, lambda **extra: render(request, "portal/renew.html", context(**extra)))


@login_required
def renew_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """The price panel, re-rendered (htmx) when the plan, the number of periods or the way to pay
    changes ("wallet first, the rest by card" shows what each pays)."""
    line = _owned_line(request, pk)
    plans = checkout_plans(line)
    plan = renewal_plan_pick(line, plans, request.GET.get("plan"))
    periods = periods_parse(request.GET.get("periods"))
    pay_with = request.GET.get("pay_with")
    context = _renew_context(request, line, plans, plan, periods, code=typed_code(request.GET), pay_with=pay_with)
    # The pay button's amount is swapped out of band, next to the price panel, and so are the ways
    # to pay when the total may have changed (pay_oob).
    extra = {"oob": True, **pay_oob(request, reverse("portal:renew_quote", args=[line.pk]))}
    return render(request, "portal/_quote.html", {**context, **extra})
