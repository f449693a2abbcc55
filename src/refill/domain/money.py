"""Money as Decimal + ISO 4217 currency. Round once, half-up, at the line-item level."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Minor units per ISO 4217 for the currencies Refill prices in. Unknown codes are refused rather
# than guessed, because a wrong exponent silently moves money by a factor of 100.
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "CNY": 2, "HKD": 2, "SGD": 2, "JPY": 0, "KRW": 0}


class CurrencyMismatch(ValueError):
    code = "currency_mismatch"


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None


def quantize(amount: Decimal, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal, never a float")
        minor_units(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _check(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(self.amount * factor, self.currency)

    def rounded(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def to_minor(self) -> int:
        return int(quantize(self.amount, self.currency).scaleb(minor_units(self.currency)))


def money_sum(items: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Share ``total`` across ``weights`` (an order's revenue across its items by their gross
    amount), each share in whole minor units, adding up to ``total`` exactly. Rounded half-up once
    per running sum, not per share: share i is round(total x weights up to i) less the same up to
    i - 1, so the rounding rest never piles up on the last share (never below zero), and with one
    or two items this is "round the first, the last takes the rest". All-zero weights give the whole
    total to the last share."""
    if not weights:
        return []
    gross = sum(weights, Decimal(0))
    if not gross:
        return [Decimal(0)] * (len(weights) - 1) + [total]
    shares, running, before = [], Decimal(0), Decimal(0)
    for weight in weights[:-1]:
        running += weight
        upto = quantize(total * running / gross, currency)
        shares.append(upto - before)
        before = upto
    return [*shares, total - before]
