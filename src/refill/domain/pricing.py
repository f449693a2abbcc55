"""Price calculation for a renewal order. Rounding happens once per line item, half-up."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import Money, quantize


@dataclass(frozen=True, slots=True)
class ItemPrice:
    unit_price: Money
    quantity: int
    amount: Money


@dataclass(frozen=True, slots=True)
class Quote:
    items: tuple[ItemPrice, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    tax_rate: Decimal
    tax_inclusive: bool


def price_item(unit_price: Money, quantity: int) -> ItemPrice:
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    if unit_price.amount < 0:
        raise ValueError("a price cannot be negative")
    amount = Money(quantize(unit_price.amount * quantity, unit_price.currency), unit_price.currency)
    return ItemPrice(unit_price, quantity, amount)


def quote(
    items: list[ItemPrice],
    *,
    tax_rate: Decimal,
    tax_inclusive: bool,
    currency: str,
    discounts: list[Money] | None = None,
) -> Quote:
    """Sum items (all in ``currency``), take off each item's discount (already rounded once, by the
    promotion rules, and never more than the item), and apply the market's tax to what is left.

    Inclusive tax is the part of the gross price that is tax: gross * rate / (1 + rate).
    Exclusive tax is added on top. Either way the tax is rounded once, on the order.
    """
    if tax_rate < 0:
        raise ValueError("tax rate cannot be negative")
    subtotal = Money.zero(currency)
    for item in items:
        subtotal = subtotal + item.amount
    discount = Money.zero(currency)
    for item, off in zip(items, discounts or [], strict=False):
        if off.amount < 0 or off.amount > item.amount.amount:
            raise ValueError("a discount must lie between nothing and the item's price")
        discount = discount + off
    taxable = subtotal - discount
    if tax_inclusive:
        tax = Money(quantize(taxable.amount * tax_rate / (1 + tax_rate), currency), currency)
        total = taxable
    else:
        tax = Money(quantize(taxable.amount * tax_rate, currency), currency)
        total = taxable + tax
    return Quote(tuple(items), subtotal, discount, tax, total, tax_rate, tax_inclusive)
