"""Refill any number, without an account (the web's side of ``POST /api/v1/refills``): the number,
then a plan of the number's market (or money for its balance), then a card, a provider wallet
(PayPal, Alipay… through the provider's page and back) or a refill PIN; the receipt is the gift's
own page (portal:gift_return) and, with an address, an email.

Every check and limit is the API's gift refill's (refill.renewals.gifts, gift_pins): these views
only read the form and show the answer. Bad input or a refusal shows the same page again with the
number, the plan and the email kept, never a 500; the card number and the PIN are never written
back into the page."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from refill.catalog.models import Plan
from refill.catalog.selectors import markets_overview
from refill.domain import payment_methods as rule
from refill.domain.money import Money, quantize
from refill.orders.errors import RefillError, decline_message
from refill.orders.models import Order, OrderItem
from refill.orders.pricing import RENEWABLE_PLAN_KINDS, periods_parse, renewal_plans
from refill.payments.card_form import CardForm, card_page
from refill.payments.models import Payment
from refill.payments.port import TokenizationError
from refill.payments.selectors import market_methods, provider_wallets_offered
from refill.renewals.checkout_choice import choice_key, choice_quote
from refill.renewals.gift_pins import gift_pin_refill
from refill.renewals.gifts import (
    GiftNumberNotFound,
    GiftRequest,
    gift_item,
    gift_line,
    gift_order_for_token,
    gift_refill,
    gift_return_token,
)

from .forms import SecretInputPin
from .provider_pages import provider_redirect

# Above what the form's amount field holds (max_digits=10, decimal_places=2): not a payable amount.
AMOUNT_LIMIT = Decimal("100000000")
# Refusals that are a limit reached (answered 429, as the API does).
LIMITED = ("too_many_gifts", "too_many_declines", "too_many_pin_attempts")


def landing_markets() -> list[dict]:
    """Each market with the plans a number can be given or renewed onto and their prices now, for
    the home page before login (add-on passes need a running plan: not listed)."""
    markets = []
    for market, rows in markets_overview():
        plans = [
            {"plan": row.plan, "price": row.price}
            for row in rows
            if row.plan.is_active and row.plan.kind in RENEWABLE_PLAN_KINDS and row.price is not None
        ]
        if plans:
            markets.append({"market": market, "plans": plans})
    return markets


class NumberForm(forms.Form):
    msisdn = forms.CharField(
        label=_("Phone number to refill"),
        max_length=24,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "data-testid": "refill-msisdn"}
        ),
        help_text=_("With the country code, e.g. +1 202 555 0143, or as you dial it in its country."),
    )


class RefillForm(forms.Form):
    """What the guest gives and how they pay. The plan choices are the number's market's only."""

    msisdn = forms.CharField(widget=forms.HiddenInput, max_length=24)
    gift = forms.ChoiceField(widget=forms.RadioSelect, error_messages={"required": _("Choose a plan.")})
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )
    periods = forms.TypedChoiceField(label=_("How many periods"), coerce=int, initial=1)
    pay_with = forms.ChoiceField(widget=forms.RadioSelect, error_messages={"required": _("Choose how to pay.")})
    pin = forms.CharField(
        label=pgettext_lazy("the PIN printed on the card", "Refill PIN"),
        max_length=40,
        required=False,
        widget=SecretInputPin(attrs={"inputmode": "numeric", "autocomplete": "off", "data-testid": "refill-pin"}),
    )
    email = forms.EmailField(
        label=_("Receipt by email (optional)"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "data-testid": "refill-email"}),
        error_messages={"invalid": _("Enter a valid email address for your confirmation, or leave it out.")},
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, plans: list[Plan], methods: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gift"].choices = [(plan.code, plan.name) for plan in plans] + [("amount", _("An amount"))]
        self.fields["periods"].choices = [
            (n, str(n)) for n in range(1, settings.REFILL_GUEST_REFILLS["max_periods"] + 1)
        ]
        self.fields["pay_with"].choices = methods

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("gift") == "amount" and cleaned.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount to give."))
        if cleaned.get("pay_with") == "pin":
            if not "".join(ch for ch in cleaned.get("pin", "") if ch.isdigit()):
                self.add_error("pin", _("Enter the refill PIN."))
            if cleaned.get("gift") == "amount":
                self.add_error("pay_with", _("A refill PIN pays for a plan: choose one of the number's plans."))
        return cleaned


def _methods(line) -> list[tuple[str, str]]:
    """How a guest may pay, in the order offered: a card, the gateway's provider wallets and a
    refill PIN, those the number's market offers (its setting, issue 28), ordered by the one rule
    (refill.domain.payment_methods) for the market and the reader's language; the PIN after every
    payment unless the market's order says otherwise. A guest has no "last used": nothing is
    remembered about them."""
    # The gateway's redirect-and-return wallets, as the logged-in checkout offers them.
    names = {
        rule.NEW_CARD: _("Card"),
        **provider_wallets_offered(),
        rule.PIN: pgettext_lazy("the PIN printed on the card", "Refill PIN"),
    }
    code = line.market.code
    market = market_methods(code)
    preferred = rule.preference_for(
        market=code, language=translation.get_language() or "", market_preferences=market.preferences(code)
    )
    options = [rule.PayOption(key) for key in names]
    ordered = rule.pay_options_ordered(options, preferred=preferred, offered=market.offered)
    return [(option.key, names[option.key]) for option in ordered]


def _offers(line, plans: list[Plan]) -> list[dict]:
    currency = line.market.currency
    return [{"plan": plan, "price": plan.current_price(currency)} for plan in plans]


def _pay_total(line, plans: list[Plan], gift, periods, amount) -> Money | None:
    """What the Pay button says the guest will pay for this choice: the plan's total for the
    periods (tax and running offers included, as the order will be), or the amount; None while
    nothing payable is chosen."""
    if gift == "amount":
        try:
            value = Decimal(str(amount or "").strip())
        except ArithmeticError:
            return None
        if not value.is_finite() or value <= 0 or value >= AMOUNT_LIMIT:
            return None
        return Money(quantize(value, line.market.currency), line.market.currency)
    plan = {plan.code: plan for plan in plans}.get(gift or "")
    if plan is None:
        return None
    count = periods_parse(periods)
    if count > settings.REFILL_GUEST_REFILLS["max_periods"]:
        return None
    priced = choice_quote(line=line, plan=plan, periods=count, code="", channel="web")
    return priced.quote.quote.total if priced.quote is not None else None


def _summary(form, card_form) -> list[tuple[str, str]]:
    """Every error of a form sent back, in the form's order, each with the field it is about (the
    error summary at the top of the form; the card fields' own are among them)."""
    if not form.is_bound:
        return []
    anchors = {"gift": "refill-gift-1", "pay_with": "refill-pay-1"}
    problems = [
        (anchors.get(name, form[name].auto_id), str(message))
        for name in ("gift", "amount", "periods", "pay_with", "pin", "email")
        for message in form.errors.get(name, [])
    ]
    if card_form is not None and card_form.is_bound:
        problems += [(field.auto_id, str(message)) for field in card_form for message in field.errors]
    return problems


def _checkout(request: HttpRequest, line, *, form=None, card_form=None, error="", decline=False, status=200):
    plans = renewal_plans(line)
    methods = _methods(line)
    if form is None:
        form = RefillForm(
            plans=plans,
            methods=methods,
            initial={
                "msisdn": line.msisdn,
                "idempotency_key": uuid.uuid4().hex,
                "pay_with": methods[0][0] if methods else None,
            },
        )
    context = {
        "line": line,
        "offers": _offers(line, plans),
        "form": form,
        "card_form": card_form or CardForm(),
        "summary": _summary(form, card_form),
        "pay_total": _pay_total(line, plans, form["gift"].value(), form["periods"].value(), form["amount"].value()),
        "error": error,
        "decline": decline,
        "max_periods": settings.REFILL_GUEST_REFILLS["max_periods"],
        "tax_added": not line.market.tax_inclusive and line.market.tax_rate > 0,
    }
    return render(request, "portal/refill_checkout.html", context, status=status)


def refill_start(request: HttpRequest) -> HttpResponse:
    """Step 1: the number. Its plans are shown only once it is known."""
    if request.method != "POST":
        return render(request, "portal/refill_number.html", {"form": NumberForm()})
    form = NumberForm(request.POST)
    if form.is_valid():
        try:
            line = gift_line(form.cleaned_data["msisdn"])
        except GiftNumberNotFound as exc:
            form.add_error("msisdn", str(exc))
        else:
            return _checkout(request, line)
    return render(request, "portal/refill_number.html", {"form": form}, status=400)


def refill_to(request: HttpRequest, number: str) -> HttpResponse:
    """The checkout of one number, by a link (an owner may share "refill my number"): the plans
    of the number's market, or the number page with why not."""
    try:
        line = gift_line(number)
    except GiftNumberNotFound as exc:
        form = NumberForm({"msisdn": number[:24]})
        form.is_valid()
        form.add_error("msisdn", str(exc))
        return render(request, "portal/refill_number.html", {"form": form}, status=404)
    return _checkout(request, line)


def refill_pay_label(request: HttpRequest) -> HttpResponse:
    """The Pay button's words for the choice now (htmx swaps it in when the plan, the periods or
    the amount change): only the number and the choice are sent, never the card's fields."""
    try:
        line = gift_line(request.GET.get("msisdn", ""))
    except GiftNumberNotFound:
        raise Http404 from None
    total = _pay_total(
        line, renewal_plans(line), request.GET.get("gift"), request.GET.get("periods"), request.GET.get("amount")
    )
    return render(request, "portal/_refill_pay_label.html", {"pay_total": total})


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only, as for the API's gift refill (a proxy that sets it is the deployment's job).
    return request.META.get("REMOTE_ADDR", "")


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry", "pin")
@card_page
def refill_pay(request: HttpRequest) -> HttpResponse:
    """Step 2: what to give and how to pay, in one form. Answers with the provider's or bank's page,
    the gift's own page (paid, or waiting), or this page again with why not."""
    if request.method != "POST":
        return redirect("portal:refill_start")
    try:
        line = gift_line(request.POST.get("msisdn", ""))
    except GiftNumberNotFound as exc:
        form = NumberForm(request.POST)
        form.is_valid()
        form.add_error("msisdn", str(exc))
        return render(request, "portal/refill_number.html", {"form": form}, status=400)
    form = RefillForm(request.POST, plans=renewal_plans(line), methods=_methods(line))
    pay_with = request.POST.get("pay_with")
    card_form = CardForm(request.POST) if pay_with == "card" else None

    def page(status: int, error: str = "", decline: bool = False) -> HttpResponse:
        return _checkout(request, line, form=form, card_form=card_form, error=error, decline=decline, status=status)

    valid = form.is_valid()
    if not valid or (card_form is not None and not card_form.is_valid()):
        return page(400)
    data = form.cleaned_data
    plan = "" if data["gift"] == "amount" else data["gift"]
    card = card_form.card_details() if card_form is not None else None
    # The key names this form *and* this choice: a double click replays one order, while a guest
    # who changes plan or amount after a decline gets a new order instead of a conflict.
    chosen = choice_key(data["gift"], data["periods"], data["amount"] or "", limit=40)
    gift = GiftRequest(
        msisdn=line.msisdn,
        card=card,
        key=f"web:{data['idempotency_key']}:{chosen}",
        ip=_client_ip(request),
        email=data["email"],
        plan=plan,
        periods=data["periods"] if plan else 1,
        amount=None if plan else data["amount"],
        language=translation.get_language(),
        provider_wallet="" if data["pay_with"] in ("card", "pin") else data["pay_with"],
    )
    try:
        if data["pay_with"] == "pin":
            outcome = gift_pin_refill(gift, pin=data["pin"])
        else:
            outcome = gift_refill(
                gift,
                return_url_for=lambda order: request.build_absolute_uri(
                    reverse("portal:gift_return", args=[gift_return_token(order)])
                ),
            )
    except TokenizationError as exc:
        return page(402, decline_message(exc.code), decline=True)
    except RefillError as exc:
        return page(
            429 if exc.code in ("too_many_gifts", "too_many_declines", "too_many_pin_attempts") else 409, str(exc)
        )
    payment = outcome.payment
    if payment is not None and payment.status == Payment.Status.FAILED and outcome.charged_now:
        return page(402, decline_message(payment.decline_code), decline=True)
    if payment is not None and payment.status == Payment.Status.REQUIRES_ACTION:
        # the bank's confirmation step or the provider's page
        return provider_redirect(request, payment.action_url, payment)
    return redirect("portal:gift_return", token=gift_return_token(outcome.order))


def refill_again(request: HttpRequest, token: str) -> HttpResponse:
    """Try again after a decline or an abandoned payment page: the same number, plan (or amount)
    and email, a new payment."""
    order = gift_order_for_token(token)
    if order is None or order.payer != Order.Payer.GUEST:
        raise Http404
    try:
        line = gift_line(order.gift_line.msisdn)
    except GiftNumberNotFound as exc:
        form = NumberForm(initial={"msisdn": order.gift_line.msisdn})
        return render(request, "portal/refill_number.html", {"form": form, "error": str(exc)}, status=404)
    item = gift_item(order)
    topup = item.kind == OrderItem.Kind.WALLET_TOPUP
    plans, methods = renewal_plans(line), _methods(line)
    form = RefillForm(
        plans=plans,
        methods=methods,
        initial={
            "msisdn": line.msisdn,
            "gift": "amount" if topup else item.plan.code,
            "amount": quantize(order.total, order.currency) if topup else None,
            "periods": item.periods if not topup else 1,
            "email": order.payer_email,
            "idempotency_key": uuid.uuid4().hex,
            "pay_with": methods[0][0] if methods else None,
        },
    )
    return _checkout(request, line, form=form)
