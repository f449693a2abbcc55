"""Which ways to pay a checkout offers, in which order, and how "wallet first, the rest by card"
splits a total. Pure: no Django, no database; the portal gathers the facts and calls these.

The order (issue 26):

1. the way the customer paid last time, when it can be used again (a saved card, the wallet, the
   wallet with a card, a provider wallet such as Alipay): a returning customer pays the way they
   did without looking for it;
2. then what the market uses most, as an ordered list of method families given by the caller
   (the operator's setting for the market, issue 28, else the defaults below), then the customer's
   language's list;
3. then Refill's own order (``BASE_ORDER``);
4. a way that cannot be used now (a wallet holding less than the total, an expired card) is kept,
   disabled with its reason, after every usable one, so the first offered is always one that works.

Ties keep the order the caller gave (saved cards come default first). A family the market switched
off (``offered``: the families a market's setting leaves on) is not offered at all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .money import minor_units

# Families of ways to pay. A saved card's key is "saved-<id>"; every other key is its family.
SAVED = "saved"
WALLET = "wallet"
WALLET_CARD = "wallet_card"
NEW_CARD = "card"
ALIPAY = "alipay"
WECHAT_PAY = "wechat_pay"
PAYPAL = "paypal"
APPLE_PAY = "apple_pay"
# A refill PIN (a printed card's code): only a guest refilling a number pays with one.
PIN = "pin"

# Refill's own order when nothing else decides: the wallet when it covers the price (issue 3: no
# card is charged at all), a saved card (nothing to type), the wallet with a card for the rest,
# a new card, then the provider wallets; the refill PIN, a guest's, after every payment.
BASE_ORDER: tuple[str, ...] = (WALLET, SAVED, WALLET_CARD, NEW_CARD, APPLE_PAY, PAYPAL, ALIPAY, WECHAT_PAY, PIN)
# Every family an operator can switch on or off and order for a market, in Refill's own order.
FAMILIES: tuple[str, ...] = BASE_ORDER

# What each market's customers use most, before cards. Chinese customers pay with 支付宝 and
# 微信支付 far more than with cards; the wallet keeps its place first when it covers the price.
DEFAULT_MARKET_PREFERENCES: dict[str, tuple[str, ...]] = {"cn": (WALLET, ALIPAY, WECHAT_PAY)}
# The same for customers by language, wherever their line is.
DEFAULT_LANGUAGE_PREFERENCES: dict[str, tuple[str, ...]] = {"zh-hans": (WALLET, ALIPAY, WECHAT_PAY)}


@dataclass(frozen=True, slots=True)
class PayOption:
    """One way to pay as a checkout offers it: ``key`` is what the form posts (``saved-12``,
    ``wallet``, ``alipay``...), ``usable`` False when it cannot pay this total now."""

    key: str
    usable: bool = True

    @property
    def family(self) -> str:
        return family_of(self.key)


def family_of(key: str) -> str:
    """A way to pay's family: ``saved-12`` is a saved card; every other key is its own family."""
    return SAVED if key.startswith(SAVED + "-") else key


def preference_for(
    *,
    market: str,
    language: str,
    market_preferences: dict[str, Sequence[str]] | None = None,
    language_preferences: dict[str, Sequence[str]] | None = None,
) -> list[str]:
    """The families a customer of ``market`` who reads ``language`` is offered first: the market's
    list, then the language's, without repeats."""
    markets = DEFAULT_MARKET_PREFERENCES if market_preferences is None else market_preferences
    languages = DEFAULT_LANGUAGE_PREFERENCES if language_preferences is None else language_preferences
    return _unique([*markets.get(market, ()), *languages.get(language.lower(), ())])


def market_order(market: str, configured: Sequence[str] | None = None) -> list[str]:
    """The families a market's checkouts offer, in the market's order before anything about the
    customer counts: the operator's setting (``configured``: the families switched on, in order),
    else the market's defaults and then Refill's own order, every family on."""
    if configured is not None:
        return _unique(family for family in configured if family in FAMILIES)
    return _unique([*DEFAULT_MARKET_PREFERENCES.get(market, ()), *FAMILIES])


def pay_options_ordered(
    options: Iterable[PayOption],
    *,
    last_used: str | None = None,
    preferred: Sequence[str] = (),
    offered: Collection[str] | None = None,
) -> list[PayOption]:
    """``options`` in the order a checkout offers them (see the module's docstring). ``last_used``
    is the key (or family) of the way the customer paid last; ``preferred`` an ordered list of
    families (or keys) the market and language put first; ``offered`` the families the market
    leaves switched on (None: every one), the others left out whatever else is said of them."""
    if offered is not None:
        options = [option for option in options if option.family in offered]
    preferred = _unique(preferred)
    base = [family for family in BASE_ORDER if family not in preferred]

    def rank(option: PayOption) -> tuple[int, int]:
        if last_used and option.key == last_used:
            place = 0
        elif option.key in preferred:
            place = 1 + preferred.index(option.key)
        elif option.family in preferred:
            place = 1 + preferred.index(option.family)
        elif option.family in base:
            place = 1 + len(preferred) + base.index(option.family)
        else:  # a family Refill does not know yet: after every known one
            place = 1 + len(preferred) + len(base)
        return (0 if option.usable else 1, place)

    return sorted(options, key=rank)  # sorted() is stable: ties keep the caller's order


def pay_option_chosen(options: Sequence[PayOption], asked: str | None = None) -> str | None:
    """The key a checkout shows chosen: the one asked for (posted back) when it is offered and
    usable, else the first usable one, else None (nothing can pay)."""
    usable = [option.key for option in options if option.usable]
    if asked in usable:
        return asked
    return usable[0] if usable else None


@dataclass(frozen=True, slots=True)
class WalletSplit:
    """What "wallet first, the rest by card" takes from each."""

    wallet: Decimal
    card: Decimal


def wallet_card_split(balance: Decimal, total: Decimal, currency: str) -> WalletSplit:
    """The wallet pays all it holds but at least one minor unit is left to the card (a card
    charge of nothing is not a charge); never a negative share."""
    one_minor_unit = Decimal(1).scaleb(-minor_units(currency))
    wallet = max(min(balance, total - one_minor_unit), Decimal(0))
    return WalletSplit(wallet=wallet, card=total - wallet)


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
