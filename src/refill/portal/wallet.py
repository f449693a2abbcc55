"""The wallet page: the currencies a customer can hold (their own market's first), the statement
(each movement in words that say what the money did: for an order, which kind, which number,
which plan or add-on), and the top-up, paid by a saved card, a provider wallet the market uses
(Alipay, WeChat Pay... through the provider's page and back) or a new card, offered in the order
every checkout uses (portal.pay_methods)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.debug import sensitive_post_parameters

from refill.catalog.models import Market
from refill.domain.payment_methods import NEW_CARD
from refill.ledger.models import Account, JournalLine
from refill.ledger.services import wallet_balance
from refill.lines.selectors import customer_markets_ranked
from refill.orders.errors import RefillError
from refill.orders.models import Order, OrderItem
from refill.orders.topups import order_create_topup
from refill.payments.card_form import card_page
from refill.payments.services import methods_for

from .checkout_pay import pay_order
from .forms import CardForm, TopupForm
from .pay_methods import pay_chosen, pay_options, provider_wallets
from .provider_pages import provider_redirect
from .views import _customer

STATEMENT_ROWS = 50


def wallet_markets(customer) -> list[Market]:
    """Markets whose currency the customer can hold (those of their lines), their home market
    first (``lines.selectors.customer_markets_ranked``, the rule a new number's country follows
    too)."""
    return customer_markets_ranked(customer)


def wallet_statement(customer, currency: str) -> list[dict]:
    """The last movements of the customer's wallet in ``currency``, newest first, with the
    balance after each."""
    rows = []
    balance = Decimal(0)
    lines = list(
        JournalLine.objects.filter(
            account__purpose=Account.Purpose.WALLET, account__customer=customer, account__currency=currency
        )
        .select_related("entry")
        .order_by("entry__created_at", "pk")
    )
    items = _order_items({line.entry.cause_id for line in lines if line.entry.cause == "order"})
    for line in lines:
        change = -Decimal(line.amount)  # the wallet is a liability: a credit adds to it
        balance += change
        rows.append(
            {
                "at": line.entry.created_at,
                "cause": statement_label(line.entry.cause, change, items.get(line.entry.cause_id)),
                "change": change,
                "balance": balance,
            }
        )
    rows.reverse()
    return rows[:STATEMENT_ROWS]


def _order_items(order_ids: set[str]) -> dict[str, OrderItem]:
    """The item of each order the wallet paid for or was topped up by (one query)."""
    ids = [int(pk) for pk in order_ids if str(pk).isdigit()]
    items = OrderItem.objects.filter(order_id__in=ids).select_related("plan", "order__line").order_by("pk")
    found: dict[str, OrderItem] = {}
    for item in items:
        found.setdefault(str(item.order_id), item)
    return found


def statement_label(cause: str, change: Decimal, item: OrderItem | None = None) -> str:
    """A wallet movement in the customer's words."""
    if cause == "order":
        return _order_label(change, item)
    labels = {
        "wallet_hold": _("Held for a card payment"),
        "wallet_release": _("Returned: the card payment failed"),
        "voucher": pgettext("the card", "Refill PIN"),
        "refund": _("Refund"),
        "cash": _("Cash in a shop"),
        "adjustment": _("Adjustment by our staff"),
    }
    return labels.get(cause, cause)


def _order_label(change: Decimal, item: OrderItem | None) -> str:
    if change > 0 or (item is not None and item.kind == OrderItem.Kind.WALLET_TOPUP):
        return _("Top-up")
    if item is None or item.plan_id is None:
        return _("Paid for an order")
    line = item.order.line
    # The number never breaks across lines on a phone ("+1 202-555-" / "0186").
    number = format_html('<span class="nowrap">{}</span>', line.msisdn_display) if line is not None else ""
    words = {"plan": conditional_escape(item.plan.name), "number": number}
    if item.kind == OrderItem.Kind.ADDON:
        return mark_safe(conditional_escape(_("Add-on for %(number)s: %(plan)s")) % words)
    return mark_safe(conditional_escape(_("Renewal of %(number)s: %(plan)s")) % words)


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@card_page
@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    """The balances, their statements, and the top-up form."""
    customer = _customer(request)
    markets = wallet_markets(customer)  # the customer's own market first: the top-up's default
    posting = request.method == "POST"
    form = TopupForm(request.POST if posting else None, markets=markets)
    market = next((m for m in markets if m.code == request.POST.get("market")), markets[0] if markets else None)
    saved = methods_for(customer)
    options = (
        pay_options(
            customer=customer,
            currency=market.currency,
            market_code=market.code,
            total=None,
            saved=saved,
            with_wallet=False,
        )
        if market is not None
        else []
    )
    # Posted without a choice (an older form, a client of its own): a new card, as before.
    asked = request.POST.get("pay_with", NEW_CARD) if posting else None
    usable = {option.key for option in options if option.usable}
    pay_with = pay_chosen(options, asked)
    card_form = CardForm(request.POST) if posting and asked == NEW_CARD else CardForm()
    error, decline = None, False
    if posting and asked not in usable:
        error = _("Choose how to pay.")
    elif posting and form.is_valid() and (asked != NEW_CARD or card_form.is_valid()):
        error, decline, answer = _topup(request, customer, form, markets, asked, card_form, saved)
        if answer is not None:
            return answer
    balances = [
        {
            "market": m,
            "balance": wallet_balance(customer, m.currency),
            "statement": wallet_statement(customer, m.currency),
        }
        for m in markets
    ]
    if posting and (error or form.errors or card_form.errors):
        status = 402 if decline else 400
    else:
        status = 200
        if not posting:
            form = TopupForm(markets=markets, initial={"idempotency_key": uuid.uuid4().hex})
    context = {
        "balances": balances,
        "form": form,
        "card_form": card_form,
        "error": error,
        "decline": decline,
        "pay_options": options,
        "pay_with": pay_with,
        "card_choices": NEW_CARD,
    }
    return render(request, "portal/wallet.html", context, status=status)


def _topup(request, customer, form, markets, pay_with: str, card_form, saved):
    """Create (or find again: the form's key) the top-up order and pay it the chosen way. Returns
    (error, declined, the answer to send instead of the page)."""
    market = next(m for m in markets if m.code == form.cleaned_data["market"])
    amount = form.cleaned_data["amount"]
    key = f"web:{form.cleaned_data['idempotency_key']}:{market.code}:{amount}"
    try:
        order = order_create_topup(
            customer=customer,
            market=market,
            amount=amount,
            idempotency_key=key[:80],
            language=translation.get_language(),
            actor=request.user,
        )
    except RefillError as exc:
        return str(exc), False, None
    if order.status == Order.Status.PAID:
        return None, False, redirect("portal:order_confirmation", pk=order.pk)
    outcome = pay_order(
        request,
        order,
        card_form=card_form if pay_with == NEW_CARD else None,
        provider=pay_with if pay_with in provider_wallets() else "",
        saved_method=next((m for m in saved if f"saved-{m.pk}" == pay_with), None),
    )
    if outcome.redirect_to:
        # the bank's step or the provider's page
        return None, False, provider_redirect(request, outcome.redirect_to, outcome.payment)
    if outcome.in_progress:
        return None, False, redirect("portal:order_detail", pk=order.pk)
    if outcome.error:
        return outcome.error, outcome.decline, None
    return None, False, redirect("portal:order_confirmation", pk=order.pk)
