from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refill.domain.money import CurrencyMismatch, Money, quantize
from refill.domain.pricing import price_item, quote


def usd(text):
    return Money(Decimal(text), "USD")


def test_item_rounds_once_half_up():
    item = price_item(Money(Decimal("0.125"), "USD"), 3)  # 0.375 -> 0.38
    assert item.amount == usd("0.38")


def test_exclusive_tax_is_added():
    q = quote([price_item(usd("25.00"), 2)], tax_rate=Decimal("0.0725"), tax_inclusive=False, currency="USD")
    assert q.subtotal == usd("50.00")
    assert q.tax == usd("3.63")  # 3.625 rounds half-up
    assert q.total == usd("53.63")


def test_inclusive_tax_is_part_of_the_price():
    q = quote(
        [price_item(Money(Decimal("68.00"), "CNY"), 1)], tax_rate=Decimal("0.06"), tax_inclusive=True, currency="CNY"
    )
    assert q.total == Money(Decimal("68.00"), "CNY")
    assert q.tax == Money(Decimal("3.85"), "CNY")


def test_zero_decimal_currency():
    assert quantize(Decimal("1234.5"), "JPY") == Decimal("1235")


def test_mixed_currencies_are_an_error():
    with pytest.raises(CurrencyMismatch):
        usd("1.00") + Money(Decimal("1.00"), "CNY")


def test_float_is_refused():
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def test_bad_quantity_and_price():
    with pytest.raises(ValueError):
        price_item(usd("1.00"), 0)
    with pytest.raises(ValueError):
        price_item(usd("-1.00"), 1)


@given(
    cents=st.integers(min_value=0, max_value=10_000_00),
    quantity=st.integers(min_value=1, max_value=24),
    rate=st.sampled_from([Decimal("0"), Decimal("0.06"), Decimal("0.0725"), Decimal("0.2")]),
    inclusive=st.booleans(),
)
def test_totals_are_consistent(cents, quantity, rate, inclusive):
    unit = Money(Decimal(cents) / 100, "USD")
    q = quote([price_item(unit, quantity)], tax_rate=rate, tax_inclusive=inclusive, currency="USD")
    assert q.subtotal.amount == unit.amount * quantity
    assert q.total.amount == quantize(q.total.amount, "USD")
    assert q.tax.amount >= 0
    if inclusive:
        assert q.total == q.subtotal
    else:
        assert q.total == q.subtotal + q.tax


def test_a_discount_comes_off_before_tax():
    q = quote(
        [price_item(usd("25.00"), 2)],
        tax_rate=Decimal("0.10"),
        tax_inclusive=False,
        currency="USD",
        discounts=[usd("12.50")],
    )
    assert (q.subtotal, q.discount, q.tax, q.total) == (usd("50.00"), usd("12.50"), usd("3.75"), usd("41.25"))


def test_a_discount_beyond_the_item_is_refused():
    with pytest.raises(ValueError):
        quote([price_item(usd("5.00"), 1)], tax_rate=Decimal(0), tax_inclusive=True, currency="USD",
              discounts=[usd("5.01")])  # fmt: skip
