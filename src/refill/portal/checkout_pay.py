"""How a portal checkout (renewal, add-on, wallet top-up) reads the way the customer chose to pay,
pays the order that way and answers; and what a price panel answer adds so the ways to pay follow
a new total. Shared by portal.renew_views, portal.addon_views and portal.wallet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from refill.orders.errors import PaymentInProgress, RefillError, decline_message
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import Payment
from refill.payments.port import TokenizationError
from refill.payments.services import methods_for
from refill.promotions.services import normalise_code

from .forms import CardForm
from .pay_methods import provider_wallets
from .provider_pages import provider_redirect


@dataclass
class PayChoice:
    """How the customer chose to pay on a checkout form: ``pay_with`` as posted (card, wallet,
    wallet_card, a provider wallet, or saved-<pk>), and what it names."""

    pay_with: str
    provider: str
    saved_method: Any
    card_form: CardForm | None


def pay_choice(request: HttpRequest, customer) -> PayChoice:
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


def typed_code(data) -> str:
    return normalise_code(str(data.get("promotion_code", ""))[:64])


@dataclass
class PayOutcome:
    payment: Payment | None = None
    error: str | None = None
    decline: bool = False
    in_progress: bool = False
    redirect_to: str = ""


def pay_order(
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


def checkout_pay(request: HttpRequest, order: Order, choice: PayChoice, page) -> HttpResponse:
    """Pay a checkout's order the way ``choice`` says and answer: the confirmation, the bank's or
    provider's page, the order's page while the payment is confirmed, or the checkout ``page``
    again with why it was not paid (``page(error=..., decline=...)``). Shared by renewals and
    add-ons."""
    if order.status == Order.Status.PAID:
        return redirect("portal:order_confirmation", pk=order.pk)
    outcome = pay_order(
        request,
        order,
        card_form=choice.card_form,
        use_wallet=choice.pay_with == "wallet_card",
        provider=choice.provider,
        saved_method=choice.saved_method,
    )
    if outcome.redirect_to:
        # the bank's confirmation step or the provider's page
        return provider_redirect(request, outcome.redirect_to, outcome.payment)
    if outcome.in_progress:
        return redirect("portal:order_detail", pk=order.pk)
    if outcome.error:
        response = page(error=outcome.error, decline=outcome.decline)
        response.status_code = 402 if outcome.decline else 409
        return response
    return redirect("portal:order_confirmation", pk=order.pk)


# The ways-to-pay fieldset's id (portal/_pay_options.html): htmx names it in HX-Trigger when the
# customer chose another way to pay.
PAY_FIELDSET = "pay-with"


def pay_oob(request: HttpRequest, quote_url: str) -> dict:
    """What a price panel answer adds so the ways to pay follow a new total: when the plan, the
    periods, the code or the pass changed (htmx sends the asking fieldset's id as HX-Trigger), the
    list re-rendered for that total, swapped out of band, the chosen way kept if still usable (else
    the rule's first usable one). Not when the ways-to-pay fieldset asked: the total did not
    change, and replacing the radio just used would take the customer's focus away."""
    if request.headers.get("HX-Trigger") == PAY_FIELDSET:
        return {}
    return {"pay_oob": True, "pay_quote_url": quote_url}
