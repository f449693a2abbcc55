"""Paying an order: by card (the attempt recorded before the provider is called), from the wallet,
in cash at a counter, or the wallet first and a card for the rest.

Money safety (architecture.md): the order is written first; the payment attempt is recorded and
committed before the provider is called; the provider is called outside any row lock; the result,
the periods, the buckets, the receipt, the audit row and the confirmation task are written in one
transaction. Locks are taken order -> line, the same order everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from refill.catalog.selectors import market_pay_methods_on
from refill.domain import payment_methods as pay_rule
from refill.domain.money import quantize
from refill.domain.payment_methods import wallet_card_split
from refill.errors import RefillError
from refill.ledger.models import Account
from refill.ledger.services import (
    InsufficientFunds,
    account_balances,
    entries_post,
    lock_accounts,
    wallet_balance,
)
from refill.ops.bulk import bulk_insert, unsaved
from refill.orders.errors import (
    OrderNotPayable,
    PayMethodNotOffered,
    TooManyDeclines,
    WalletTooLow,
)
from refill.orders.models import Order, OrderItem, Receipt
from refill.orders.services import receipts_number
from refill.payments.gateways import gateway_for
from refill.payments.models import Payment, PaymentMethod
from refill.payments.port import (
    PROVIDER_WALLETS,
    BrowserCard,
    CardDetails,
    ChargeRequest,
    PaymentGateway,
    PaymentToken,
)
from refill.payments.services import card_tokenize, provider_charge, wallet_tokenize
from refill.promotions.services import (
    redemptions_release,
    redemptions_retake,
)

from .accounting import Accounts, wallet_move
from .batch import ORDER_STATE, lock_fresh
from .fulfilment import order_fulfil, order_fulfil_paid, orders_fulfil
from .payable import payable_check, payable_refusals
from .settling import payment_complete

# Card-testing guard: a customer whose cards were declined this often in the last hour must wait.
DECLINE_LIMIT_PER_HOUR = 10


@dataclass(frozen=True)
class CardCharge:
    """A card (or provider) charge to start for ``order``: ``wallet_amount`` of the total taken
    from the wallet first and held while the card pays the rest."""

    order: Order
    token: PaymentToken
    gateway: str
    wallet_amount: Decimal = Decimal(0)


def payments_start(
    *, charges: list[CardCharge], now: datetime | None = None
) -> dict[int, Payment | RefillError | None]:
    """Record card attempts (and hold each one's wallet part) before the provider is called, for
    many orders in one transaction and a few statements. Answers per order: the payment to charge,
    None if the order is already paid (or charged, waiting for its fulfilment: never charge again),
    or why it may not be charged now (nothing is written for it then)."""
    now = now or timezone.now()
    answers: dict[int, Payment | RefillError | None] = {}
    with transaction.atomic():
        orders = lock_fresh(Order, [charge.order for charge in charges], ORDER_STATE)
        ids = list(orders)
        charged = set(
            Payment.objects.filter(order_id__in=ids, status=Payment.Status.SUCCEEDED).values_list("order_id", flat=True)
        )
        for order in orders.values():
            if order.status == Order.Status.PAID or order.pk in charged:
                answers[order.pk] = None
        payable = [order for order in orders.values() if order.pk not in answers]
        answers.update(payable_refusals(payable, now))
        guests = [order for order in payable if order.payer == Order.Payer.GUEST]
        if guests:
            answers.update(guest_decline_refusals(guests, now))
        declines = dict(
            Payment.objects.filter(
                # A guest's declines count against their address (above), never against the owner.
                order__customer_id__in={order.customer_id for order in payable},
                order__payer=Order.Payer.OWNER,
                status=Payment.Status.FAILED,
                method=Payment.Method.CARD,
                created_at__gte=timezone.now() - timedelta(hours=1),
            )
            .order_by()
            .values("order__customer_id")
            .annotate(count=Count("pk"))
            .values_list("order__customer_id", "count")
        )
        accounts = Accounts()
        wanted: list[tuple[CardCharge, Order, Decimal]] = []
        for charge in charges:
            order = orders[charge.order.pk]
            if order.pk in answers:
                continue
            if order.payer == Order.Payer.OWNER and declines.get(order.customer_id, 0) >= DECLINE_LIMIT_PER_HOUR:
                answers[order.pk] = TooManyDeclines()
                continue
            wallet_amount = quantize(Decimal(charge.wallet_amount), order.currency)
            if wallet_amount < 0 or wallet_amount >= order.total:
                answers[order.pk] = OrderNotPayable()
                continue
            wanted.append((charge, order, wallet_amount))
        refused = redemptions_retake([order for _, order, _ in wanted])
        answers.update(refused)
        wanted = [charge for charge in wanted if charge[1].pk not in refused]
        # Wallet parts: the wallets are locked (primary-key order) and each order's part held only
        # if what is left of the wallet covers it.
        wallets = {
            order.pk: accounts(Account.Purpose.WALLET, order.currency, customer=order.customer)
            for _, order, amount in wanted
            if amount
        }
        left = account_balances(lock_accounts(wallets.values())) if wallets else {}
        wallet_payments, card_payments, holds = [], [], []
        for charge, order, amount in wanted:
            if amount:
                wallet = wallets[order.pk]
                if left[wallet] < amount:
                    answers[order.pk] = WalletTooLow()
                    continue
                left[wallet] -= amount
                wallet_payments.append(
                    unsaved(
                        Payment,
                        order=order,
                        idempotency_key=f"wallet_{order.pk}_{uuid.uuid4().hex}",
                        gateway="wallet",
                        method=Payment.Method.WALLET,
                        amount=amount,
                        currency=order.currency,
                    )
                )
            # The key sent to the provider must be unique across databases and resets, not just
            # rows: a provider keeps keys for days and would answer a reused one with an old charge.
            card_payments.append(
                unsaved(
                    Payment,
                    order=order,
                    idempotency_key=f"pay_{order.pk}_{uuid.uuid4().hex}",
                    gateway=charge.gateway,
                    method=Payment.Method.CARD,
                    amount=order.total - amount,
                    currency=order.currency,
                    card_brand=charge.token.brand,
                    card_last4=charge.token.last4,
                    card_exp_month=charge.token.exp_month,
                    card_exp_year=charge.token.exp_year,
                )
            )
        bulk_insert(wallet_payments + card_payments)
        for payment in wallet_payments:
            order = orders[payment.order_id]
            holds.append(wallet_move(payment, order, accounts))
        entries_post(holds)
        answers.update({payment.order_id: payment for payment in card_payments})
    return answers


def payment_start(
    *,
    order: Order,
    token: PaymentToken,
    gateway: PaymentGateway,
    wallet_amount: Decimal = Decimal(0),
    now: datetime | None = None,
) -> Payment | None:
    """Record a card attempt (``payments_start`` with one). Returns None if the order is already
    paid; raises why it may not be charged now."""
    charge = CardCharge(order=order, token=token, gateway=gateway.name, wallet_amount=wallet_amount)
    answer = payments_start(charges=[charge], now=now)[order.pk]
    if isinstance(answer, RefillError):
        raise answer
    return answer


def order_pay_card(
    *,
    order: Order,
    token: PaymentToken,
    gateway: PaymentGateway,
    wallet_amount: Decimal = Decimal(0),
    actor=None,
    now: datetime | None = None,
    return_url: str = "",
    customer_reference: str = "",
    off_session: bool = False,
) -> Payment | None:
    """Charge ``token`` for ``order`` (less ``wallet_amount`` taken from the wallet) exactly once
    and, if it succeeds, fulfil the order. A saved method passes its provider customer; an
    auto-renewal, with nobody there to confirm with the bank, passes ``off_session``."""
    payment = payment_start(order=order, token=token, gateway=gateway, wallet_amount=wallet_amount, now=now)
    if payment is None:
        order_fulfil_paid(order_id=order.pk, actor=actor, now=now)
        return order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-method").first()

    request = charge_request(
        payment,
        token.token,
        return_url=return_url,
        customer_reference=customer_reference,
        off_session=off_session,
    )
    result = provider_charge(gateway, payment, request)
    payment = payment_complete(payment=payment, result=result, actor=actor, now=now)
    receipt = Receipt.objects.filter(order_id=order.pk).first()
    if receipt is not None:
        # After the checkout transaction: number the receipt in a short transaction of its own.
        receipts_number(series_code=receipt.series_id)
    return payment


def charge_request(
    payment: Payment, token: str, *, return_url: str = "", customer_reference: str = "", off_session: bool = False
) -> ChargeRequest:
    """What the provider is asked to charge for a recorded attempt."""

    def record_reference(reference: str) -> None:
        # Committed on its own before the provider can move money, so a lost answer can be looked up.
        Payment.objects.filter(pk=payment.pk).update(provider_reference=reference[:100])

    return ChargeRequest(
        amount=payment.amount,
        currency=payment.currency,
        token=token,
        idempotency_key=payment.idempotency_key,
        description=f"Refill order {payment.order_id}",
        return_url=return_url,
        customer_reference=customer_reference,
        off_session=off_session,
        on_reference=record_reference,
    )


@dataclass(frozen=True)
class PayWith:
    """How the customer chose to pay an order: a card typed now, a saved method, a provider wallet
    (redirect-and-return), the wallet alone (none of these), or the wallet first and a card or
    saved method for the rest (``use_wallet``)."""

    card: CardDetails | BrowserCard | None = None
    saved_method: PaymentMethod | None = None
    provider_wallet: str = ""
    use_wallet: bool = False


def wallet_share(order: Order) -> Decimal:
    """What the wallet covers when it pays first and a card the rest: all of it but at least one
    minor unit, which the card pays."""
    return share_of_wallet(wallet_balance(order.customer, order.currency), order)


def share_of_wallet(balance: Decimal, order: Order) -> Decimal:
    """wallet_share for a wallet whose balance is already known."""
    return wallet_card_split(balance, order.total, order.currency).wallet


def pay_with_family(pay_with: PayWith) -> str:
    """The way to pay ``pay_with`` is, as a market's setting names it (domain.payment_methods)."""
    if pay_with.use_wallet:
        return pay_rule.WALLET_CARD
    if pay_with.saved_method is not None:
        return pay_rule.SAVED
    if pay_with.provider_wallet:
        return pay_with.provider_wallet
    return pay_rule.NEW_CARD if pay_with.card is not None else pay_rule.WALLET


def pay_method_check(*, market, family: str) -> None:
    """Refuse a way to pay (a family of domain.payment_methods) the market (a Market, its pk or
    code) switched off in its "Ways to pay" setting, whatever a form or a client posted:
    PayMethodNotOffered, before anything is recorded or charged. A market without a setting
    offers every way."""
    offered = market_pay_methods_on(market)
    if offered is not None and family not in offered:
        raise PayMethodNotOffered()


def order_pay(*, order: Order, pay_with: PayWith, actor=None, return_url: str = "") -> Payment | None:
    """Pay ``order`` the way the customer chose, through the configured gateway. Shared by the
    portal and the API. Raises TokenizationError for a card the provider refuses outright and
    RefillError for an order that cannot be paid now (PayMethodNotOffered for a way its market
    switched off); a decline comes back as a failed payment."""

    if order.total == 0:
        # Promotions took off the whole price: nothing to charge, the order is fulfilled at once.
        return order_pay_wallet(order=order, actor=actor)
    pay_method_check(market=order.market_id, family=pay_with_family(pay_with))
    saved = pay_with.saved_method
    if saved is not None:
        # A saved method's token belongs to the adapter that saved it, whatever the default is now.
        gateway = gateway_for(saved.gateway)
        token = PaymentToken(saved.token, saved.brand, saved.last4, saved.exp_month or 0, saved.exp_year or 0)
    elif pay_with.provider_wallet:
        gateway, token = wallet_tokenize(method=pay_with.provider_wallet)
    elif pay_with.card is not None:
        gateway, token = card_tokenize(card=pay_with.card)
    else:
        return order_pay_wallet(order=order, actor=actor)
    return order_pay_card(
        order=order,
        token=token,
        gateway=gateway,
        wallet_amount=wallet_share(order) if pay_with.use_wallet else Decimal(0),
        actor=actor,
        return_url=return_url,
        customer_reference=saved.provider_customer if saved is not None else "",
    )


def _order_pay_in_house(
    *, order: Order, method: str, gateway: str, actor, now: datetime | None, refuse_topups: bool = False
) -> Payment | None:
    """Pay the whole order with money Refill holds itself (the wallet, a shop's cash): record the
    payment and fulfil in one transaction, since no outside party has to answer first. An order
    already paid or charged is only fulfilled (if it is not yet), never paid again."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        existing = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-method").first()
        charged = order.status == Order.Status.PAID or existing is not None
        if not charged:
            if refuse_topups and order.items.filter(kind=OrderItem.Kind.WALLET_TOPUP).exists():
                raise OrderNotPayable()
            payable_check(order, now)
            refusal = redemptions_retake([order]).get(order.pk)
            if refusal is not None:
                raise refusal
            payment = Payment.objects.create(
                order=order,
                idempotency_key=f"{method}_{order.pk}_{uuid.uuid4().hex}",
                gateway=gateway,
                method=method,
                status=Payment.Status.SUCCEEDED,
                amount=order.total,
                currency=order.currency,
                completed_at=now,
            )
            try:
                order_fulfil(order=order, payments=[payment], actor=actor, now=now)
            except InsufficientFunds:
                raise WalletTooLow() from None
    if charged:
        order_fulfil_paid(order_id=order.pk, actor=actor, now=now)
        return existing
    receipts_number(series_code=order.receipt.series_id)
    return payment


def order_pay_wallet(*, order: Order, actor=None, now: datetime | None = None) -> Payment | None:
    """Pay the whole order from the customer's wallet, in one transaction with the fulfilment."""
    return _order_pay_in_house(
        order=order, method=Payment.Method.WALLET, gateway="wallet", actor=actor, now=now, refuse_topups=True
    )


def order_pay_cash(*, order: Order, agent, now: datetime | None = None) -> Payment | None:
    """A shop agent took the order's total in cash: record it and fulfil in one transaction. The
    cash is owed by the agent's drawer (ledger account shop_cash:<agent>). None for an order that
    was already paid without a payment of its own (one its promotions made free)."""
    return _order_pay_in_house(
        order=order, method=Payment.Method.CASH, gateway=f"agent-{agent.pk}", actor=agent, now=now
    )


def orders_pay_wallet(
    *, orders: list[Order], actor=None, now: datetime | None = None
) -> dict[int, Payment | RefillError | None]:
    """Pay many orders, each whole, from their customers' wallets and fulfil them, in one
    transaction and a few statements however many (a business's bulk job). Answers per order: its
    wallet payment; None if it was already paid (never paid twice); or why it may not be paid now,
    with nothing written for it (the checks of ``payable_refusals``, a promotion run out, or a
    wallet that no longer covers it: orders are paid in primary-key order until it does not)."""
    now = now or timezone.now()
    answers: dict[int, Payment | RefillError | None] = {}
    with transaction.atomic():
        locked = lock_fresh(Order, orders, ORDER_STATE)
        charged = set(
            Payment.objects.filter(order_id__in=list(locked), status=Payment.Status.SUCCEEDED).values_list(
                "order_id", flat=True
            )
        )
        answers.update({pk: None for pk, order in locked.items() if order.status == Order.Status.PAID or pk in charged})
        payable = [order for pk, order in sorted(locked.items()) if pk not in answers]
        answers.update(payable_refusals(payable, now))
        payable = [order for order in payable if order.pk not in answers]
        answers.update(redemptions_retake(payable))
        payable = [order for order in payable if order.pk not in answers]
        accounts = Accounts()
        wallets = {
            order.pk: accounts(Account.Purpose.WALLET, order.currency, customer=order.customer) for order in payable
        }
        left = account_balances(lock_accounts(wallets.values())) if wallets else {}
        paid, payments, short = [], [], []
        for order in payable:
            wallet = wallets[order.pk]
            if left[wallet] < order.total:
                answers[order.pk] = WalletTooLow()
                short.append(order.pk)
                continue
            left[wallet] -= order.total
            payment = unsaved(
                Payment,
                order=order,
                idempotency_key=f"wallet_{order.pk}_{uuid.uuid4().hex}",
                gateway="wallet",
                method=Payment.Method.WALLET,
                status=Payment.Status.SUCCEEDED,
                amount=order.total,
                currency=order.currency,
                completed_at=now,
            )
            payments.append(payment)
            paid.append((order, [payment]))
        if short:
            redemptions_release(order_ids=short)
        bulk_insert(payments)
        orders_fulfil(paid=paid, actor=actor, now=now)
        answers.update({payment.order_id: payment for payment in payments})
    return answers


def guest_decline_refusals(orders: list[Order], now: datetime) -> dict[int, RefillError]:
    """Guest orders that may not be charged now: their address, or the number they are for, saw
    too many declined cards in the last hour (called by ``payments_start``)."""
    limits = settings.REFILL_GUEST_REFILLS
    since = now - timedelta(hours=1)
    # Declined cards only: the limit stops card testing, and a decline in a payment app (Alipay,
    # WeChat Pay... recorded as a card attempt of that brand) tried no card.
    failed = (
        Payment.objects.filter(
            order__payer=Order.Payer.GUEST,
            status=Payment.Status.FAILED,
            method=Payment.Method.CARD,
            created_at__gte=since,
        )
        .exclude(card_brand__in=list(PROVIDER_WALLETS))
        .order_by()
    )
    by_ip = dict(
        failed.filter(order__payer_ip__in={o.payer_ip for o in orders if o.payer_ip})
        .values("order__payer_ip")
        .annotate(count=Count("pk"))
        .values_list("order__payer_ip", "count")
    )
    by_line: dict[int | None, int] = dict(
        failed.filter(order__gift_line_id__in={o.gift_line_id for o in orders})
        .values("order__gift_line_id")
        .annotate(count=Count("pk"))
        .values_list("order__gift_line_id", "count")
    )
    refusals: dict[int, RefillError] = {}
    for order in orders:
        if by_ip.get(order.payer_ip, 0) >= limits["declines_per_ip_hour"]:
            refusals[order.pk] = TooManyDeclines()
        elif by_line.get(order.gift_line_id, 0) >= limits["declines_per_number_hour"]:
            refusals[order.pk] = TooManyDeclines()
    return refusals
