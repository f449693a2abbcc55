"""The shop counter's sales: a plan renewal and an add-on pass for a verified line, priced as the
agent changes the form and paid in cash, from the owner's wallet or by card (``checkout``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from refill.errors import RefillError
from refill.formatting import money_text
from refill.lines.models import Line
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import PriceChanged
from refill.orders.models import Order
from refill.orders.pricing import periods_parse, renewal_plan_pick, renewal_plans
from refill.payments.card_form import CardForm
from refill.portal.forms import AddonForm
from refill.promotions.services import normalise_code
from refill.renewals.addons import addon_plan_pick, addon_plans, addon_quote, order_create_addon
from refill.renewals.checkout_choice import choice_key, choice_quote

from .access import (
    agent_required,
    verified_line,
)
from .checkout import CARD_ACTIONS, PAY_ACTIONS, take_payment, wallet_offer
from .forms import (
    ShopRenewForm,
)
from .services import (
    shop_sale_record,
)


class _CounterSale:
    """One sale at the counter, a renewal or an add-on pass, as both views handle it: the agent's
    choice (``data``), whether this request pays (``paying``), the card fields, the sale's own form
    (with the idempotency key it keeps across a decline), the page that shows them again, and the
    payment once the order is made."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.data = request.POST if request.method == "POST" else request.GET
        self.action = self.data.get("action", "")
        self.paying = request.method == "POST" and self.action in PAY_ACTIONS
        card_data = request.POST if self.paying and self.action in CARD_ACTIONS else None
        self.card_form = CardForm(card_data, keep_number=False)

    def form_for(self, form_class, **kwargs):
        """The sale's form (bound only when paying), its key new unless the page brought one back."""
        self.form = form_class(
            self.request.POST if self.paying else None,
            initial={"idempotency_key": self.data.get("idempotency_key") or uuid.uuid4().hex},
            **kwargs,
        )
        return self.form

    def refusal(self, plan) -> str | None:
        """Why the form cannot be paid as sent (None when it can). The card fields show their own
        errors; the sale form's are said here."""
        if plan is not None and self.form.is_valid() and (self.action not in CARD_ACTIONS or self.card_form.is_valid()):
            return None
        return " ".join(str(e) for errors in self.form.errors.values() for e in errors)

    def page(
        self,
        template: str,
        context: Callable[[], dict],
        status: int = 200,
        error: str = "",
        fresh_key: bool = False,
        repriced: bool = False,
    ) -> HttpResponse:
        key = (
            uuid.uuid4().hex
            if fresh_key
            else (self.data.get("idempotency_key") or self.form.initial["idempotency_key"])
        )
        shown = {**context(), "card_form": self.card_form, "idempotency_key": key, "error": error, "repriced": repriced}
        return render(self.request, template, shown, status=status)

    def sell(
        self,
        create: Callable[..., Order],
        line: Line,
        key: str,
        page: Callable[..., HttpResponse],
        said: Callable[[Order], str],
        **choice,
    ) -> HttpResponse:
        """Make the order with ``create`` (a renewal's or an add-on's), record the shop's sale, take
        the payment the agent chose and show the receipt (``said`` of the paid order as the
        message); or the page again with why not. ``key`` names this form *and* this choice: a
        double click replays one order, while another choice after a decline makes a new order
        instead of a conflict."""
        try:
            order = create(
                customer=line.owner,
                line=line,
                idempotency_key=key,
                expected_total=self.form.cleaned_data.get("expected_total"),
                language=line.owner.preferred_language,
                actor=self.request.user,
                channel="shop",
                **choice,
            )
        except PriceChanged:
            # The price on the button was for another choice (changed without the price being
            # refreshed: no script), or it moved meanwhile. Nothing was taken: show this choice's
            # price and let the agent confirm it with the customer.
            return page(repriced=True)
        except RefillError as exc:
            return page(status=409, error=str(exc))
        shop_sale_record(order=order, shop=self.request.shop, agent=self.request.user)
        refusal = take_payment(self.request, order, self.action, self.card_form)
        if refusal is not None:
            status, error, fresh_key = refusal
            return page(status=status, error=error, fresh_key=fresh_key)
        order.refresh_from_db()
        messages.success(self.request, said(order))
        return redirect("agentdesk:receipt", pk=order.pk)

    def key(self, prefix: str, choice: str) -> str:
        """The order's idempotency key: the counter, the agent, this form's key and the choice."""
        return f"{prefix}:{self.request.user.pk}:{self.form.cleaned_data['idempotency_key']}:{choice}"[:80]


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
    sale = _CounterSale(request)
    plans, plan, periods, code = _renew_choice(line, sale.data)
    sale.form_for(ShopRenewForm, plans=plans, max_periods=plan.max_prepaid_periods if plan else 1)
    page = partial(sale.page, "agentdesk/renew.html", lambda: _renew_context(line, plans, plan, periods, code))
    if not sale.paying:
        return page()
    refusal = sale.refusal(plan)
    if refusal is not None:
        return page(status=400, error=refusal)
    return sale.sell(
        order_create_renewal,
        line,
        sale.key("shop", choice_key(plan.code, periods, code, limit=30)),
        page,
        lambda paid: (
            _("%(number)s renewed: %(amount)s paid. Receipt %(receipt)s.")
            % {
                "number": line.msisdn_display,
                "amount": money_text(paid.total, paid.currency),
                "receipt": paid.receipt.display_number,
            }
        ),
        plan=plan,
        periods=periods,
        promotion_code=code,
    )


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
    sale = _CounterSale(request)
    plans = addon_plans(line)
    plan = addon_plan_pick(plans, sale.data.get("plan"))
    sale.form_for(AddonForm, plans=plans)
    page = partial(sale.page, "agentdesk/addon.html", lambda: _addon_context(line, plans, plan))
    if not sale.paying:
        return page()
    refusal = sale.refusal(plan)
    if refusal is not None:
        return page(status=400, error=refusal)
    return sale.sell(
        order_create_addon,
        line,
        sale.key("shop-addon", choice_key(plan.code, limit=24)),
        page,
        lambda paid: (
            _("%(addon)s added to %(number)s: %(amount)s paid. Receipt %(receipt)s.")
            % {
                "addon": plan.name,
                "number": line.msisdn_display,
                "amount": money_text(paid.total, paid.currency),
                "receipt": paid.receipt.display_number,
            }
        ),
        plan=plan,
    )
