"""The ledger entries of the checkout: the capture of a paid order, its promotions' cost, and the
wallet money held for (or released from) a card payment.
"""

from __future__ import annotations

from decimal import Decimal

from refill.catalog.models import Plan
from refill.domain.money import allocate
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import (
    EntrySpec,
    account_for,
    wallet_hold_entry,
)
from refill.orders.models import Order, OrderItem
from refill.payments.models import Payment


def wallet_move(payment: Payment, order: Order, accounts: Accounts, *, release: bool = False) -> EntrySpec:
    """Move the wallet part of a wallet + card payment aside while the card is charged, or give it
    back (``release``) when the card failed."""
    return wallet_hold_entry(
        customer=order.customer,
        currency=order.currency,
        amount=payment.amount,
        key=f"payment:{payment.pk}:{'release' if release else 'hold'}",
        cause_id=payment.pk,
        memo=f"released: card payment for order {order.pk} failed" if release else f"held for order {order.pk}",
        release=release,
        accounts=accounts,
    )


class Accounts:
    """account_for, asked once per account in a batch."""

    def __init__(self) -> None:
        self._known: dict[tuple, Account] = {}

    def __call__(self, purpose: str, currency: str, *, customer=None, reference: str = "") -> Account:
        key = (purpose, currency, customer.pk if customer is not None else None, reference)
        if key not in self._known:
            self._known[key] = account_for(purpose, currency, customer=customer, reference=reference)
        return self._known[key]


def capture_spec(
    order: Order, payments: list[Payment], items: list[OrderItem], held: set[str], accounts: Accounts, actor
) -> EntrySpec | None:
    """The order's one capture entry: what each payment brought in (card clearing, wallet, or the
    wallet money held for it) against revenue per plan kind, tax, or the wallet for a top-up. None
    for a free order, where nothing moved."""
    if order.total == 0:
        return None
    currency = order.currency
    customer = order.customer
    postings = []
    for payment in payments:
        if payment.method == Payment.Method.WALLET:
            purpose = Account.Purpose.WALLET_HOLD if f"payment:{payment.pk}:hold" in held else Account.Purpose.WALLET
            account = accounts(purpose, currency, customer=customer)
        elif payment.method == Payment.Method.CASH:
            account = accounts(Account.Purpose.SHOP_CASH, currency, reference=payment.gateway)
        else:
            account = accounts(Account.Purpose.CLEARING, currency, reference=payment.gateway)
        postings.append((account, payment.amount))
    topups = sum((item.amount for item in items if item.kind == OrderItem.Kind.WALLET_TOPUP), Decimal(0))
    if topups:
        postings.append((accounts(Account.Purpose.WALLET, currency, customer=customer), -topups))
    # Revenue per plan kind (base, retention, "addon"), shared by gross amount (domain.money.allocate).
    sales = [item for item in items if item.kind in (OrderItem.Kind.RENEWAL, OrderItem.Kind.ADDON)]
    shares = allocate(order.total - order.tax - topups, [item.amount for item in sales], currency)
    by_kind: dict[str, Decimal] = {}
    for item, share in zip(sales, shares, strict=True):
        assert item.plan is not None  # renewals and add-ons always name the plan they sold
        by_kind[item.plan.kind] = by_kind.get(item.plan.kind, Decimal(0)) + share
    for kind, amount in by_kind.items():
        postings.append((accounts(Account.Purpose.REVENUE, currency, reference=kind), -amount))
    if order.tax:
        postings.append((accounts(Account.Purpose.TAX, currency, reference=order.market.code), -order.tax))
    return EntrySpec(
        key=f"order:{order.pk}:capture",
        cause=JournalEntry.Cause.ORDER,
        cause_id=order.pk,
        postings=postings,
        actor=actor,
        memo=f"order {order.pk} paid",
    )


def promotion_specs(
    redeemed: list, orders: dict[int, Order], items: dict[int, list[OrderItem]], accounts: Accounts, actor
) -> list[EntrySpec]:
    """Each paid order's promotion cost entry: revenue is booked at the list price, and what the
    promotions took off or gave free is their cost (one account per promotion), so revenue less
    promotion cost is what the customer paid (less tax)."""
    by_order: dict[int, list] = {}
    for redemption in redeemed:
        if redemption.cost:
            by_order.setdefault(redemption.order_id, []).append(redemption)
    specs = []
    for order_id, redemptions in by_order.items():
        order = orders[order_id]
        renewal = next(item for item in items[order_id] if item.kind == OrderItem.Kind.RENEWAL)
        assert renewal.plan is not None  # a renewal always names its plan
        kind = renewal.plan.kind
        postings = []
        for redemption in redemptions:
            cost_account = accounts(Account.Purpose.PROMOTIONS, order.currency, reference=str(redemption.promotion_id))
            revenue = accounts(
                Account.Purpose.REVENUE,
                order.currency,
                reference=Plan.Kind.ADDON if redemption.addon_plan_id else kind,
            )
            postings += [(cost_account, redemption.cost), (revenue, -redemption.cost)]
        specs.append(
            EntrySpec(
                key=f"order:{order_id}:promotion",
                cause=JournalEntry.Cause.PROMOTION,
                cause_id=order_id,
                postings=postings,
                actor=actor,
                memo=f"order {order_id}: promotions {', '.join(str(r.promotion) for r in redemptions)}"[:200],
            )
        )
    return specs
