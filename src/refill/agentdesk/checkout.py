"""Taking the payment for a counter order (a renewal or an add-on pass): cash (owed by the agent's
drawer), a card typed at the counter (tokenised by the gateway at once, never stored), the
customer's wallet, or the wallet first and the card for the rest. The customer is verified before
any of these (agentdesk.access.verified_line): the wallet is theirs, so it is offered only then.

The wallet and the card for the rest is the portal's own path (orders.paying.order_pay with
``use_wallet``). The wallet and *cash* for the rest is not offered: an in-house payment pays the
whole order with one kind of money, so the agent tops the wallet up with the cash first (the
counter's cash top-up), then pays from the wallet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from refill.domain.money import minor_units
from refill.errors import RefillError
from refill.formatting import money_text
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.orders.errors import PaymentInProgress, WalletTooLow, decline_message
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay, order_pay_cash
from refill.payments.card_form import CardForm
from refill.payments.models import Payment
from refill.payments.port import TokenizationError

# The buttons of the counter's payment form (name="action").
CARD_ACTIONS = {"card", "wallet_card"}
PAY_ACTIONS = {"cash", "wallet"} | CARD_ACTIONS


@dataclass(frozen=True)
class WalletOffer:
    """What the customer's wallet can do for a price: ``covers`` it all, or pays ``share`` of it
    with a card charged the ``rest`` (a card pays at least one minor unit, as in the portal)."""

    balance: Decimal
    currency: str
    covers: bool
    share: Decimal
    rest: Decimal


def wallet_offer(line: Line, total: Decimal | None) -> WalletOffer:
    currency = line.market.currency
    balance = wallet_balance(line.owner, currency)
    if total is None:
        return WalletOffer(balance, currency, False, Decimal(0), Decimal(0))
    one_minor_unit = Decimal(1).scaleb(-minor_units(currency))
    share = max(min(balance, total - one_minor_unit), Decimal(0))
    return WalletOffer(balance, currency, balance >= total, share, total - share)


def take_payment(request: HttpRequest, order: Order, action: str, card_form: CardForm) -> tuple[int, str, bool] | None:
    """Take a counter order's total the way the agent pressed (``action``). None when paid (or
    already paid); otherwise the answer's status, the error, and whether the next try needs a new
    order (a payment still in progress keeps this one waiting)."""
    if order.status == Order.Status.PAID:
        return None
    if action in CARD_ACTIONS:
        return _pay_card(request, order, card_form, use_wallet=action == "wallet_card")
    try:
        if action == "wallet":
            order_pay(order=order, pay_with=PayWith(), actor=request.user)
        else:
            order_pay_cash(order=order, agent=request.user)
    except WalletTooLow:
        balance = wallet_balance(order.customer, order.currency)
        return 409, _wallet_short(balance, order), False
    except PaymentInProgress as exc:
        return 409, str(exc), True
    except RefillError as exc:
        return 409, str(exc), False
    return None


def _wallet_short(balance: Decimal, order: Order) -> str:
    return _(
        "The customer's wallet holds %(balance)s, less than %(total)s. Take the rest by card, or top the "
        "wallet up with cash first."
    ) % {"balance": money_text(balance, order.currency), "total": money_text(order.total, order.currency)}


def _pay_card(
    request: HttpRequest, order: Order, card_form: CardForm, *, use_wallet: bool
) -> tuple[int, str, bool] | None:
    """Charge the card typed at the counter (less what the wallet pays first, with ``use_wallet``).
    A decline keeps the order for another try; a payment the bank must confirm, or that is still
    unknown, leaves the order waiting."""
    try:
        payment = order_pay(
            order=order,
            pay_with=PayWith(card=card_form.card_details(), use_wallet=use_wallet),
            actor=request.user,
            return_url=request.build_absolute_uri(reverse("agentdesk:desk")),
        )
    except TokenizationError as exc:
        return 402, decline_message(exc.code), False
    except PaymentInProgress as exc:
        return 409, str(exc), True
    except RefillError as exc:
        return 409, str(exc), False
    if payment is None or payment.status == Payment.Status.SUCCEEDED:
        return None
    if payment.status == Payment.Status.FAILED:
        return 402, decline_message(payment.decline_code), False
    if payment.status == Payment.Status.REQUIRES_ACTION:
        message = _(
            "This card needs the customer to confirm the payment with their bank, which cannot be done at the "
            "counter. Take cash or use another card."
        )
    else:
        message = _(
            "The card payment is not confirmed yet. Check the shop's sales in a few minutes before taking "
            "another payment for this number."
        )
    return 409, message, True
