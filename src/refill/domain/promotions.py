"""Promotion rules: which offers an order may take, in which order they stack, and what they give.

Pure Python (no Django): the promotions app reads offers and their redemption counts from the
database, asks ``choose`` which apply, and ``discount`` what they take off. Rules:

- An offer applies only inside its window, while not paused, to the plans, channels and customer
  segments it names (none named: all), from its minimum number of periods, to new customers or
  first orders only if it says so, and while its limits (in total, per customer, per line) and its
  budget allow. A bonus allowance adds only to what the plan bought limits: nothing is added to an
  unlimited allowance, and an offer that would add only to unlimited ones does not apply at all
  (so it is neither granted nor shown in a quote).
- Offers stack in one deterministic order: by priority (lower first), then by id. The first offer
  that applies is taken; an exclusive offer is then the only one, and after a stackable one only
  stackable ones are added.
- A discount never makes an item negative: percent offers take their share of what is left of the
  item after the offers before them, amounts off are capped at what is left. Each item's discount
  is rounded once, half-up, to the currency's minor unit; what rounding adds or removes is given to
  the last offer that took something from the item, so the offers' shares always sum to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from .money import Money, minor_units, quantize

HUNDRED = Decimal(100)


class Kind(StrEnum):
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    BONUS_ALLOWANCE = "bonus_allowance"
    EXTRA_PERIODS = "extra_periods"  # buy N periods, get M more free
    FIRST_ORDER = "first_order"  # percent off a line's first paid order
    FREE_ADDON = "free_addon"


class Refusal(StrEnum):
    """Why an offer does not apply; each has a sentence for the customer (promotions.messages)."""

    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    PAUSED = "paused"
    NOT_FOR_PLAN = "not_for_plan"
    TOO_FEW_PERIODS = "too_few_periods"
    NOT_FOR_CHANNEL = "not_for_channel"
    NOT_FOR_SEGMENT = "not_for_segment"
    NEW_CUSTOMERS_ONLY = "new_customers_only"
    FIRST_ORDER_ONLY = "first_order_only"
    ALREADY_USED = "already_used"
    LIMIT_REACHED = "limit_reached"
    BUDGET_SPENT = "budget_spent"
    NOT_IN_CURRENCY = "not_in_currency"
    NOT_COMBINABLE = "not_combinable"
    NOTHING_TO_ADD = "nothing_to_add"  # a bonus only of allowances the plan already has unlimited


@dataclass(frozen=True)
class Offer:
    id: int
    kind: Kind
    priority: int = 100
    exclusive: bool = True
    percent: Decimal = Decimal(0)  # percent_off, first_order: 0 < percent <= 100
    amounts: Mapping[str, Decimal] = field(default_factory=dict)  # amount_off, per currency
    bonus: Mapping[str, int] = field(default_factory=dict)  # bonus_allowance: data MB, voice min, sms
    buy: int = 0  # extra_periods: for every `buy` periods paid ...
    free: int = 0  # ... `free` more periods
    addon_plan: int | None = None  # free_addon
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    paused: bool = False
    plans: frozenset[int] = frozenset()
    min_periods: int = 1
    channels: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    new_customers_only: bool = False
    first_order_only: bool = False
    limit_total: int | None = None
    limit_per_customer: int | None = None
    limit_per_line: int | None = None
    budget: Decimal | None = None  # in the market's currency: discounts and the value of what is free


@dataclass(frozen=True)
class Uses:
    """An offer's redemptions so far (held ones count: a payment in flight has its redemption)."""

    total: int = 0
    by_customer: int = 0
    by_line: int = 0
    spent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Buyer:
    """The order an offer is asked about."""

    now: datetime
    plan: int
    periods: int
    channel: str  # web, app, shop, api
    currency: str
    segments: frozenset[str] = frozenset()
    new_customer: bool = False  # no paid order yet, on any line
    first_order: bool = False  # the line's first paid order
    # Free periods never take a line past its plan's max_prepaid_periods: at most this many.
    room: int | None = None
    # The allowance kinds (data, voice, sms) the plan bought has unlimited: no bonus adds to them.
    unlimited: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Item:
    key: str
    amount: Money  # the item's price before any discount (already rounded)
    unit: Money | None = None  # one period's price: the value of a free period


@dataclass(frozen=True)
class Share:
    offer: int
    amount: Money


@dataclass(frozen=True)
class Result:
    offers: tuple[Offer, ...]
    discounts: Mapping[str, Money]  # per item key, rounded once
    shares: tuple[Share, ...]  # per offer, summing to the discounts
    bonus: Mapping[str, int]
    free_periods: int
    addon_plans: tuple[int, ...]
    refused: Mapping[int, Refusal]  # offers that were asked about and did not apply
    free_by_offer: Mapping[int, int] = field(default_factory=dict)  # free periods each offer gives
    bonus_by_offer: Mapping[int, Mapping[str, int]] = field(default_factory=dict)  # what each bonus offer adds

    @property
    def discount(self) -> Decimal:
        return sum((money.amount for money in self.discounts.values()), Decimal(0))

    def cost_of(self, offer: int) -> Decimal:
        return sum((share.amount.amount for share in self.shares if share.offer == offer), Decimal(0))


def check(offer: Offer, buyer: Buyer, uses: Uses) -> Refusal | None:
    """Why ``offer`` cannot apply to this order, or None (the budget is checked by ``choose``, once
    the order's cost is known)."""
    if offer.paused:
        return Refusal.PAUSED
    if offer.starts_at is not None and buyer.now < offer.starts_at:
        return Refusal.NOT_STARTED
    if offer.ends_at is not None and buyer.now >= offer.ends_at:
        return Refusal.EXPIRED
    if offer.plans and buyer.plan not in offer.plans:
        return Refusal.NOT_FOR_PLAN
    if buyer.periods < max(offer.min_periods, offer.buy if offer.kind == Kind.EXTRA_PERIODS else 1):
        return Refusal.TOO_FEW_PERIODS
    if offer.channels and buyer.channel not in offer.channels:
        return Refusal.NOT_FOR_CHANNEL
    if offer.segments and not offer.segments & buyer.segments:
        return Refusal.NOT_FOR_SEGMENT
    if offer.new_customers_only and not buyer.new_customer:
        return Refusal.NEW_CUSTOMERS_ONLY
    if (offer.first_order_only or offer.kind == Kind.FIRST_ORDER) and not buyer.first_order:
        return Refusal.FIRST_ORDER_ONLY
    if offer.kind == Kind.AMOUNT_OFF and buyer.currency not in offer.amounts:
        return Refusal.NOT_IN_CURRENCY
    if offer.kind == Kind.BONUS_ALLOWANCE and not bonus_given(offer, buyer):
        return Refusal.NOTHING_TO_ADD
    if offer.limit_per_customer is not None and uses.by_customer >= offer.limit_per_customer:
        return Refusal.ALREADY_USED
    if offer.limit_per_line is not None and uses.by_line >= offer.limit_per_line:
        return Refusal.ALREADY_USED
    if offer.limit_total is not None and uses.total >= offer.limit_total:
        return Refusal.LIMIT_REACHED
    return None


def bonus_given(offer: Offer, buyer: Buyer) -> dict[str, int]:
    """What a bonus-allowance offer adds to this order: its bonuses, less those on an allowance
    the plan already has unlimited (10 GB more of unlimited data is no gift, and would show as one)."""
    return {kind: amount for kind, amount in offer.bonus.items() if amount > 0 and kind not in buyer.unlimited}


def stacking_order(offers: list[Offer]) -> list[Offer]:
    return sorted(offers, key=lambda offer: (offer.priority, offer.id))


def choose(
    offers: list[Offer], buyer: Buyer, uses: Mapping[int, Uses], items: list[Item], addon_prices: Mapping[int, Money]
) -> Result:
    """The offers this order takes (in stacking order) and what they give."""
    taken: list[Offer] = []
    refused: dict[int, Refusal] = {}
    for offer in stacking_order(offers):
        offer_uses = uses.get(offer.id, Uses())
        refusal = check(offer, buyer, offer_uses)
        if refusal is None and taken and (offer.exclusive or taken[0].exclusive):
            refusal = Refusal.NOT_COMBINABLE
        if refusal is None and offer.budget is not None:
            trial = _give([*taken, offer], buyer, items, addon_prices)
            if offer_uses.spent + trial.cost_of(offer.id) > offer.budget:
                refusal = Refusal.BUDGET_SPENT
        if refusal is None:
            taken.append(offer)
        else:
            refused[offer.id] = refusal
    return replace(_give(taken, buyer, items, addon_prices), refused=refused)


def _give(taken: list[Offer], buyer: Buyer, items: list[Item], addon_prices: Mapping[int, Money]) -> Result:
    currency = buyer.currency
    shares: dict[int, Decimal] = {offer.id: Decimal(0) for offer in taken}
    discounts: dict[str, Money] = {}
    amount_left = {offer.id: offer.amounts.get(currency, Decimal(0)) for offer in taken}
    for item in items:
        if item.amount.currency != currency:
            raise ValueError("an item in another currency")
        left = item.amount.amount
        exact: list[tuple[int, Decimal]] = []
        for offer in taken:
            if offer.kind in (Kind.PERCENT_OFF, Kind.FIRST_ORDER):
                off = left * min(max(offer.percent, Decimal(0)), HUNDRED) / HUNDRED
            elif offer.kind == Kind.AMOUNT_OFF:
                off = min(left, max(amount_left[offer.id], Decimal(0)))
                amount_left[offer.id] -= off
            else:
                continue
            if off > 0:
                exact.append((offer.id, off))
                left -= off
        total = min(quantize(item.amount.amount - left, currency), item.amount.amount)
        discounts[item.key] = Money(total, currency)
        # Each offer's share rounded down to the minor unit; the remainder of the item's one rounding
        # goes to the last offer that took something.
        given = Decimal(0)
        for index, (offer_id, off) in enumerate(exact):
            share = total - given if index == len(exact) - 1 else min(_floor(off, currency), total - given)
            shares[offer_id] += share
            given += share
    bonus: dict[str, int] = {}
    bonus_by_offer: dict[int, dict[str, int]] = {}
    free_periods = 0
    free_by_offer: dict[int, int] = {}
    addons: list[int] = []
    unit = next((item.unit for item in items if item.unit is not None), None)
    for offer in taken:
        if offer.kind == Kind.BONUS_ALLOWANCE:
            granted = bonus_given(offer, buyer)
            if granted:
                bonus_by_offer[offer.id] = granted
            for kind, amount in granted.items():
                bonus[kind] = bonus.get(kind, 0) + amount
        elif offer.kind == Kind.EXTRA_PERIODS and offer.buy > 0:
            free = buyer.periods // offer.buy * offer.free
            if buyer.room is not None:
                free = max(0, min(free, buyer.room - free_periods))
            free_periods += free
            free_by_offer[offer.id] = free
            if unit is not None:
                shares[offer.id] += unit.amount * free
        elif offer.kind == Kind.FREE_ADDON and offer.addon_plan is not None:
            addons.append(offer.addon_plan)
            price = addon_prices.get(offer.addon_plan)
            if price is not None and price.currency == currency:
                shares[offer.id] += price.amount
    return Result(
        tuple(taken),
        discounts,
        tuple(Share(offer.id, Money(shares[offer.id], currency)) for offer in taken),
        bonus,
        free_periods,
        tuple(addons),
        {},
        free_by_offer,
        bonus_by_offer,
    )


def _floor(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_FLOOR)
