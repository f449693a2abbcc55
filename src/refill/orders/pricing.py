"""Quotes: what a renewal costs, which periods it buys and what promotions do to it. Reads only.

The one code path every channel (portal, API, counter, gifts, fleets, auto-renew) prices with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from refill.catalog.models import Plan, PlanPrice
from refill.domain.lifecycle import LAPSED, LineStatus, is_renewable
from refill.domain.money import Money
from refill.domain.periods import Span, ValidityKind, plan_periods, prepaid_fits, prepaid_room
from refill.domain.pricing import Quote, price_item, quote
from refill.domain.promotions import Buyer, Kind, Result
from refill.domain.promotions import Item as PromotionItem
from refill.domain.promotions import choose as promotions_choose
from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.bulk import unsaved
from refill.orders.errors import (
    LineNotRenewable,
    PlanNotAvailable,
    TooManyPeriods,
)
from refill.orders.models import Order
from refill.promotions.errors import PromotionRefused
from refill.promotions.models import Redemption
from refill.promotions.services import (
    normalise_code,
    offer_of,
    promotions_for,
    unlimited_kinds,
    uses_of,
)
from refill.promotions.texts import promotion_line
from refill.subscriptions.selectors import periods_ahead

RENEWABLE_PLAN_KINDS = (Plan.Kind.BASE, Plan.Kind.RETENTION)


@dataclass(frozen=True)
class RenewalQuote:
    line: Line
    plan: Plan
    price: PlanPrice
    periods: int
    quote: Quote
    spans: tuple[Span, ...]
    max_periods: int

    @property
    def new_period_end(self) -> datetime:
        return self.spans[-1].end

    @property
    def starts_now(self) -> bool:
        return self.line.period_end is None or self.spans[0].start != self.line.period_end


def renewal_plans(line: Line) -> list[Plan]:
    """Plans a line can renew onto, with a current price in its market's currency."""
    plans = Plan.objects.filter(market=line.market, is_active=True, kind__in=RENEWABLE_PLAN_KINDS)
    return [plan for plan in plans if plan.current_price(line.market.currency) is not None]


def renewal_plan_pick(line: Line, plans: list[Plan], code: str | None) -> Plan | None:
    """The plan a renewal form shows chosen: the one asked for, else the one the line renews onto
    (a plan change waiting, or its own), else the first."""
    by_code = {plan.code: plan for plan in plans}
    if code and code in by_code:
        return by_code[code]
    return by_code.get(line.renewal_plan.code) or (plans[0] if plans else None)


def periods_parse(raw) -> int:
    """How many periods a renewal form asks for: a whole number, at least 1 (the quote checks the
    upper limit and says why)."""
    try:
        return max(int(raw), 1)
    except (TypeError, ValueError):
        return 1


def line_lapsed(line: Line, now: datetime) -> bool:
    return LineStatus(line.status) in LAPSED or line.period_end is None or line.period_end <= now


def spans_for(line: Line, plan: Plan, periods: int, now: datetime) -> list[Span]:
    lapsed = line_lapsed(line, now)
    anchor = None
    if not lapsed and plan.validity_kind != ValidityKind.DAYS:
        anchor = line.anchor_day
    return plan_periods(
        current_end=line.period_end,
        now=now,
        lapsed=lapsed,
        validity=plan.validity,
        count=periods,
        zone=line.market.zone,
        anchor_day=anchor,
    )


def renewal_quote(*, line: Line, plan: Plan, periods: int, now: datetime | None = None) -> RenewalQuote:
    """What ``periods`` periods of ``plan`` cost and when they would end. Validates everything a
    renewal must satisfy; raises a RefillError with a customer-facing message otherwise."""
    now = now or timezone.now()
    return renewal_quote_lookup(
        line,
        plan,
        periods,
        now,
        lambda: plan.current_price(line.market.currency, now),
        lambda: periods_ahead(line, now),
    )


CHANNELS = (
    "web",
    "app",
    "shop",
    "api",
    "auto",
    "fleet",
)  # where an order is made; "auto": auto-renew, "fleet": a bulk job


@dataclass(frozen=True)
class PromotedQuote:
    """A renewal's quote with the promotions it would take: what they take off and give, the price
    after them, and why a typed code does not apply (``code_refusal``), if it does not."""

    renewal: RenewalQuote
    promotions: tuple[Any, ...]  # the promotions asked about (running automatic ones, the code's)
    offers: Result
    quote: Quote
    code_refusal: RefillError | None
    code: str = ""  # the typed code, as stored
    spans: tuple[Span, ...] = ()  # the periods granted with the free ones (empty: the renewal's)

    @property
    def taken(self) -> list:
        """The promotions the order takes, in stacking order."""
        by_pk = {promotion.pk: promotion for promotion in self.promotions}
        return [by_pk[offer.id] for offer in self.offers.offers]

    @property
    def lines(self) -> list:
        """What each promotion taken would take off and give, in words (promotions.texts)."""
        return [promotion_line(redemption) for redemption in redemptions_of(None, self)]

    @property
    def new_period_end(self) -> datetime:
        """When the renewal with its free periods would end."""
        return (self.spans or self.renewal.spans)[-1].end


NO_OFFERS = Result((), {}, (), {}, 0, (), {})


def renewal_quote_promoted(
    *, line: Line, plan: Plan, periods: int, code: str = "", channel: str = "web", now: datetime | None = None
) -> PromotedQuote:
    """renewal_quote with the market's running automatic offers and the offer of ``code`` (an unknown
    code raises PromotionUnknown). Reads only: nothing is held until an order is made."""

    now = now or timezone.now()
    renewal = renewal_quote(line=line, plan=plan, periods=periods, now=now)
    promotions = promotions_for(market=line.market, code=code, now=now)
    return quote_promote(
        renewal, promotions, customer=line.owner, channel=channel, code=code, now=now, price_of=price_lookup(now)
    )


def quote_promote(
    renewal: RenewalQuote,
    promotions: list,
    *,
    customer,
    channel: str,
    code: str,
    now: datetime,
    price_of,
    exclude: frozenset[int] = frozenset(),
) -> PromotedQuote:
    """What ``promotions`` (less those in ``exclude``) do to ``renewal``'s quote for ``customer``.
    Asks the database only what the promotions' rules need (a market without promotions: nothing)."""
    code = normalise_code(code)
    promotions = [promotion for promotion in promotions if promotion.pk not in exclude]
    if not promotions:
        return PromotedQuote(renewal, (), NO_OFFERS, renewal.quote, None, code)
    line, plan, periods = renewal.line, renewal.plan, renewal.periods
    currency = renewal.price.currency
    item = renewal.quote.items[0]
    paid = Order.objects.filter(status=Order.Status.PAID)
    new_customer = first_order = False
    if any(promotion.new_customers_only for promotion in promotions):
        new_customer = not paid.filter(customer=customer.pk).exists()
    if any(p.first_order_only or p.kind == Kind.FIRST_ORDER for p in promotions):
        first_order = not paid.filter(line=line.pk).exists()
    buyer = Buyer(
        now=now,
        plan=plan.pk,
        periods=periods,
        channel=channel,
        currency=currency,
        segments=customer.segment_set,
        new_customer=new_customer,
        first_order=first_order,
        room=renewal.max_periods - periods,
        unlimited=unlimited_kinds(plan),
    )
    addon_prices = {}
    for promotion in promotions:
        if promotion.addon_plan is not None:
            price = price_of(promotion.addon_plan, currency)
            if price is not None:
                addon_prices[promotion.addon_plan_id] = Money(price.amount, currency)
    offers = promotions_choose(
        [offer_of(promotion) for promotion in promotions],
        buyer,
        uses_of(promotions, customer=customer, line=line),
        [PromotionItem("renewal", item.amount, item.unit_price)],
        addon_prices,
    )
    promoted = quote(
        [item],
        tax_rate=renewal.quote.tax_rate,
        tax_inclusive=renewal.quote.tax_inclusive,
        currency=currency,
        discounts=[offers.discounts["renewal"]],
    )
    refusal = next((offers.refused.get(p.pk) for p in promotions if code and p.code == code), None)
    spans = tuple(spans_for(line, plan, periods + offers.free_periods, now)) if offers.free_periods else ()
    return PromotedQuote(
        renewal, tuple(promotions), offers, promoted, PromotionRefused(refusal) if refusal else None, code, spans
    )


def renewal_quote_lookup(line: Line, plan: Plan, periods: int, now: datetime, price_of, ahead_of) -> RenewalQuote:
    """renewal_quote, with the current price and the periods already paid ahead asked from
    ``price_of()`` and ``ahead_of()`` (batch work looks them up for many lines at once)."""
    if not is_renewable(LineStatus(line.status)):
        raise LineNotRenewable()
    if plan.market_id != line.market_id or not plan.is_active or plan.kind not in RENEWABLE_PLAN_KINDS:
        raise PlanNotAvailable()
    price = price_of()
    if price is None:
        raise PlanNotAvailable()
    lapsed = line_lapsed(line, now)
    allowed = prepaid_room(limit=plan.max_prepaid_periods, ahead=0 if lapsed else ahead_of(), lapsed=lapsed)
    if not prepaid_fits(periods=periods, room=allowed):
        raise TooManyPeriods(limit=plan.max_prepaid_periods, allowed=allowed)
    item = price_item(Money(price.amount, price.currency), periods)
    order_quote = quote(
        [item], tax_rate=line.market.tax_rate, tax_inclusive=line.market.tax_inclusive, currency=price.currency
    )
    spans = spans_for(line, plan, periods, now)
    return RenewalQuote(line, plan, price, periods, order_quote, tuple(spans), allowed)


def price_lookup(now: datetime):
    """``plan.current_price(currency, now)``, asked once per plan and currency in a batch."""
    known: dict[tuple[int, str], PlanPrice | None] = {}

    def price(plan: Plan, currency: str) -> PlanPrice | None:
        if (plan.pk, currency) not in known:
            known[plan.pk, currency] = plan.current_price(currency, now)
        return known[plan.pk, currency]

    return price


def redemptions_of(order: Order | None, promoted: PromotedQuote) -> list:
    """The redemption rows of ``order`` (unsaved; without an order, to be shown): each promotion it
    takes, what it takes off and costs, and what it gives besides, as it stands now."""

    rows = []
    for promotion in promoted.taken:
        cost = promoted.offers.cost_of(promotion.pk)
        # Only what the rules give: no bonus on an allowance the plan has unlimited.
        bonus = promoted.offers.bonus_by_offer.get(promotion.pk, {})
        rows.append(
            unsaved(
                Redemption,
                promotion=promotion,
                order=order,
                discount=cost if promotion.kind in DISCOUNT_KINDS else Decimal(0),
                cost=cost,
                free_periods=promoted.offers.free_by_offer.get(promotion.pk, 0),
                bonus_data_mb=bonus.get("data", 0),
                bonus_voice_minutes=bonus.get("voice", 0),
                bonus_sms=bonus.get("sms", 0),
                addon_plan=promotion.addon_plan if promotion.kind == Kind.FREE_ADDON else None,
                created_at=order.created_at if order is not None else timezone.now(),
            )
        )
    return rows


DISCOUNT_KINDS = (Kind.PERCENT_OFF, Kind.AMOUNT_OFF, Kind.FIRST_ORDER)  # what takes money off
