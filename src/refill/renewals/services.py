"""Renewal: quote, order, pay, grant. The one code path every channel calls.

Money safety (architecture.md): the order is written first; the payment attempt is recorded and
committed before the provider is called; the provider is called outside any row lock; the result,
the periods, the buckets, the receipt, the audit row and the confirmation task are written in one
transaction. Locks are taken order -> line, the same order everywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from refill.audit.services import audit_event, audit_record, audit_records
from refill.catalog.models import Plan, PlanPrice
from refill.domain.allowances import rolled_over_until
from refill.domain.lifecycle import LAPSED, LineStatus, is_renewable, status_after_renewal
from refill.domain.money import Money, allocate, quantize
from refill.domain.payment_methods import wallet_card_split
from refill.domain.periods import Span, ValidityKind, plan_periods, prepaid_fits, prepaid_room
from refill.domain.pricing import Quote, price_item, quote
from refill.domain.promotions import Buyer, Kind, Result
from refill.domain.promotions import Item as PromotionItem
from refill.domain.promotions import choose as promotions_choose
from refill.errors import RefillError
from refill.events import emit_many
from refill.formatting import money_text
from refill.integrations.payments.base import (
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    PaymentGateway,
    PaymentToken,
)
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import (
    EntrySpec,
    InsufficientFunds,
    account_balances,
    account_for,
    entries_post,
    lock_accounts,
    wallet_balance,
    wallet_hold_entry,
)
from refill.lines.models import Line
from refill.lines.services import line_changes_save, line_move
from refill.ops.bulk import bulk_insert, bulk_set, unsaved
from refill.orders.models import Order, OrderItem, Receipt
from refill.orders.payable import ORDER_PAYABLE_FOR, orders_no_longer_payable, periods_in_flight
from refill.orders.services import receipts_issue, receipts_number
from refill.payments.models import Payment, PaymentMethod
from refill.payments.services import provider_charge
from refill.promotions.errors import PromotionRefused
from refill.promotions.models import Redemption
from refill.promotions.services import (
    PromotionLookup,
    normalise_code,
    offer_of,
    promotions_for,
    promotions_take,
    promotions_take_in_bulk,
    redemptions_redeem,
    redemptions_release,
    redemptions_retake,
    unlimited_kinds,
    uses_of,
)
from refill.subscriptions.models import Bucket, Period
from refill.subscriptions.selectors import periods_ahead, periods_ahead_of

from .errors import (
    IdempotencyConflict,
    LineNotRenewable,
    NotOwner,
    OrderNotPayable,
    PaymentInProgress,
    PlanNotAvailable,
    PriceChanged,
    TooManyDeclines,
    TooManyPeriods,
    TopupOutOfRange,
    WalletTooLow,
)
from .tasks import fulfil_paid_order

# Card-testing guard: a customer whose cards were declined this often in the last hour must wait.
DECLINE_LIMIT_PER_HOUR = 10

logger = logging.getLogger(__name__)

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


def _line_lapsed(line: Line, now: datetime) -> bool:
    return LineStatus(line.status) in LAPSED or line.period_end is None or line.period_end <= now


def _spans_for(line: Line, plan: Plan, periods: int, now: datetime) -> list[Span]:
    lapsed = _line_lapsed(line, now)
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
    return _renewal_quote(
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
        from refill.promotions.texts import promotion_line

        return [promotion_line(redemption) for redemption in _redemptions(None, self)]

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
    return _promote(
        renewal, promotions, customer=line.owner, channel=channel, code=code, now=now, price_of=_price_lookup(now)
    )


def _promote(
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
    spans = tuple(_spans_for(line, plan, periods + offers.free_periods, now)) if offers.free_periods else ()
    return PromotedQuote(
        renewal, tuple(promotions), offers, promoted, PromotionRefused(refusal) if refusal else None, code, spans
    )


def _renewal_quote(line: Line, plan: Plan, periods: int, now: datetime, price_of, ahead_of) -> RenewalQuote:
    """renewal_quote, with the current price and the periods already paid ahead asked from
    ``price_of()`` and ``ahead_of()`` (batch work looks them up for many lines at once)."""
    if not is_renewable(LineStatus(line.status)):
        raise LineNotRenewable()
    if plan.market_id != line.market_id or not plan.is_active or plan.kind not in RENEWABLE_PLAN_KINDS:
        raise PlanNotAvailable()
    price = price_of()
    if price is None:
        raise PlanNotAvailable()
    lapsed = _line_lapsed(line, now)
    allowed = prepaid_room(limit=plan.max_prepaid_periods, ahead=0 if lapsed else ahead_of(), lapsed=lapsed)
    if not prepaid_fits(periods=periods, room=allowed):
        raise TooManyPeriods(limit=plan.max_prepaid_periods, allowed=allowed)
    item = price_item(Money(price.amount, price.currency), periods)
    order_quote = quote(
        [item], tax_rate=line.market.tax_rate, tax_inclusive=line.market.tax_inclusive, currency=price.currency
    )
    spans = _spans_for(line, plan, periods, now)
    return RenewalQuote(line, plan, price, periods, order_quote, tuple(spans), allowed)


def _lock_fresh(model, objs: list, fields: tuple[str, ...]) -> dict[int, Any]:
    """Lock the rows of ``objs`` (primary-key order, the one lock order used everywhere) and bring
    the objects' ``fields`` up to date from the locked rows, without building new objects: batch
    work passes the same objects from step to step. Returns the objects by primary key (rows
    gone from the table are left out)."""
    by_pk: dict[int, list] = {}
    for obj in objs:
        by_pk.setdefault(obj.pk, []).append(obj)
    fresh = {}
    rows = model.objects.select_for_update().filter(pk__in=sorted(by_pk)).order_by("pk").values_list("pk", *fields)
    for pk, *values in rows:
        for obj in by_pk[pk]:
            for name, value in zip(fields, values, strict=True):
                if name.endswith("_id") and getattr(obj, name) != value:
                    obj._state.fields_cache.pop(name.removesuffix("_id"), None)
                setattr(obj, name, value)
        fresh[pk] = by_pk[pk][0]
    return fresh


LINE_STATE = ("status", "status_changed_at", "period_end", "anchor_day", "plan_id", "next_plan_id", "owner_id")
ORDER_STATE = ("status", "paid_at")
PAYMENT_STATE = ("status", "provider_reference", "action_url", "decline_code", "completed_at")


def _items_of(orders: list[Order]) -> dict[int, list[OrderItem]]:
    """Each order's items with their plans and prices (items never change once written: an order
    made in this batch carries its own, the others are read in one query)."""
    missing = [order.pk for order in orders if not hasattr(order, "_batch_items")]
    if missing:
        found: dict[int, list[OrderItem]] = {pk: [] for pk in missing}
        for item in OrderItem.objects.filter(order_id__in=missing).select_related("plan", "plan_price").order_by("pk"):
            found[item.order_id].append(item)
        for order in orders:
            if order.pk in found:
                order._batch_items = found[order.pk]
    return {order.pk: order._batch_items for order in orders}


def _price_lookup(now: datetime):
    """``plan.current_price(currency, now)``, asked once per plan and currency in a batch."""
    known: dict[tuple[int, str], PlanPrice | None] = {}

    def price(plan: Plan, currency: str) -> PlanPrice | None:
        if (plan.pk, currency) not in known:
            known[plan.pk, currency] = plan.current_price(currency, now)
        return known[plan.pk, currency]

    return price


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Guest:
    """Someone paying for a number that is not theirs: a guest without an account (a gift refill),
    or a partner's API key renewing for its customer. Names who gets the payment confirmation and
    what their attempts are counted against; also the audit actor of what they do."""

    ip: str
    email: str = ""
    api_key: Any = None

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}" if self.api_key is not None else f"guest {self.ip}"


def _payer_fields(guest: Guest | None, line: Line | None) -> dict:
    if guest is None:
        return {}
    if guest.api_key is not None:
        return {"payer": Order.Payer.PARTNER, "payer_api_key": guest.api_key, "gift_line": line}
    return {"payer": Order.Payer.GUEST, "payer_ip": guest.ip or None, "payer_email": guest.email, "gift_line": line}


@dataclass(frozen=True)
class RenewalRequest:
    """An order to renew ``line`` with ``periods`` periods of ``plan``, asked under ``idempotency_key``."""

    customer: Any
    line: Line
    plan: Plan
    periods: int
    idempotency_key: str
    expected_total: Decimal | None = None
    language: str = "en"
    actor: Any = None
    guest: Guest | None = None
    promotion_code: str = ""
    channel: str = "web"  # CHANNELS
    bulk_job: Any = None  # a business's bulk job the order is part of (refill.fleets)

    @property
    def fingerprint(self) -> str:
        payload = {"line": self.line.pk, "plan": self.plan.pk, "periods": self.periods}
        if code := normalise_code(self.promotion_code):
            payload["promotion_code"] = code
        return _fingerprint(payload)


def order_create_renewal(
    *,
    customer,
    line: Line,
    plan: Plan,
    periods: int,
    idempotency_key: str,
    expected_total: Decimal | None = None,
    language: str = "en",
    actor=None,
    now: datetime | None = None,
    guest: Guest | None = None,
    promotion_code: str = "",
    channel: str = "web",
) -> Order:
    """Create (or return, for a replayed key) the order to renew ``line``, with the promotions that
    apply (``promotion_code`` typed, if any). Charges nothing. A ``guest`` pays for the owner's
    line: the order is the owner's (``customer``)."""
    request = RenewalRequest(
        customer, line, plan, periods, idempotency_key, expected_total, language, actor, guest, promotion_code, channel
    )
    answer = orders_create_renewals(requests=[request], now=now)[0]
    if isinstance(answer, RefillError):
        raise answer
    return answer


def orders_create_renewals(*, requests: list[RenewalRequest], now: datetime | None = None) -> list[Order | RefillError]:
    """Create (or return, for a replayed key) orders to renew lines, in one transaction and a few
    statements however many. Charges nothing. Answers each request with its order or why it was
    refused (nothing is written for a refused one)."""
    answers: dict[int, Order | RefillError] = {}
    existing = _existing_orders(requests)
    fresh: list[tuple[int, RenewalRequest]] = []
    for index, request in enumerate(requests):
        key = request.idempotency_key
        if not key or len(key) > 80:
            answers[index] = IdempotencyConflict()
        elif (request.customer.pk, key) in existing:
            order = existing[request.customer.pk, key]
            answers[index] = order if order.request_fingerprint == request.fingerprint else IdempotencyConflict()
        elif request.line.owner_id != request.customer.pk:
            answers[index] = NotOwner()
        else:
            fresh.append((index, request))
    if fresh:
        try:
            answers.update(_create_renewals(fresh, now))
        except IntegrityError:
            if len(fresh) > 1:
                # A concurrent request with one of these keys won its insert: take them one by one.
                for index, request in fresh:
                    answers[index] = orders_create_renewals(requests=[request], now=now)[0]
            else:
                # It won the insert: answer as a replay would.
                index, request = fresh[0]
                order = _existing_orders([request]).get((request.customer.pk, request.idempotency_key))
                if order is None:
                    raise
                answers[index] = order if order.request_fingerprint == request.fingerprint else IdempotencyConflict()
    return [answers[index] for index in range(len(requests))]


def _existing_orders(requests: list[RenewalRequest]) -> dict[tuple[int, str], Order]:
    orders = Order.objects.filter(
        customer_id__in={r.customer.pk for r in requests}, idempotency_key__in={r.idempotency_key for r in requests}
    )
    return {(order.customer_id, order.idempotency_key): order for order in orders}


def _create_renewals(fresh: list[tuple[int, RenewalRequest]], now: datetime | None) -> dict[int, Order | RefillError]:
    at = now or timezone.now()
    answers: dict[int, Order | RefillError] = {}
    with transaction.atomic():
        lines = _lock_fresh(Line, [request.line for _, request in fresh], LINE_STATE)
        ahead = periods_ahead_of(list(lines), at)
        price_of = _price_lookup(at)
        promotions_of = PromotionLookup(at)
        taking: Counter = Counter()  # redemptions taken in this batch, written with the orders
        priced: list[tuple[int, RenewalRequest, list, PromotedQuote]] = []
        for index, request in fresh:
            line, plan = request.line, request.plan
            if line.pk not in lines or line.owner_id != request.customer.pk:
                answers[index] = NotOwner()
                continue
            try:
                renewal = _renewal_quote(
                    line,
                    plan,
                    request.periods,
                    at,
                    lambda: price_of(plan, line.market.currency),  # noqa: B023 - called at once
                    lambda: ahead.get(line.pk, 0),  # noqa: B023
                )
                promotions = promotions_of(market=line.market, code=request.promotion_code)
                priced.append((index, request, promotions, _priced(request, renewal, promotions, at, price_of)))
            except RefillError as exc:
                answers[index] = exc
        # The promotions are taken last, just before the orders are written: their rows stay locked
        # only from here to the commit.
        taken = _taken_in_bulk(priced)
        made: list[tuple[int, RenewalRequest, Order, PromotedQuote]] = []
        for index, request, promotions, promoted in priced:
            line = request.line
            if index not in taken:
                try:
                    promoted = _taken_one_by_one(request, promoted.renewal, promotions, at, price_of, taking, promoted)
                except RefillError as exc:
                    answers[index] = exc
                    continue
            order = unsaved(
                Order,
                customer=request.customer,
                line=line,
                market=line.market,
                idempotency_key=request.idempotency_key,
                request_fingerprint=request.fingerprint,
                currency=promoted.renewal.price.currency,
                subtotal=promoted.quote.subtotal.amount,
                discount=promoted.quote.discount.amount,
                tax=promoted.quote.tax.amount,
                total=promoted.quote.total.amount,
                tax_rate=promoted.quote.tax_rate,
                tax_inclusive=promoted.quote.tax_inclusive,
                language=request.language,
                promotion_code=promoted.code,
                bulk_job=request.bulk_job,
                created_at=at,
                **_payer_fields(request.guest, line),
            )
            made.append((index, request, order, promoted))
        bulk_insert([order for _, _, order, _ in made])
        items = bulk_insert(
            unsaved(
                OrderItem,
                order=order,
                plan=request.plan,
                plan_price=promoted.renewal.price,
                periods=request.periods,
                free_periods=promoted.offers.free_periods,
                unit_price=promoted.quote.items[0].unit_price.amount,
                amount=promoted.quote.items[0].amount.amount,
            )
            for _, request, order, promoted in made
        )
        for item in items:
            item.order._batch_items = [item]
        bulk_insert(row for _, _, order, promoted in made for row in _redemptions(order, promoted))
        audit_records(
            [
                audit_event(
                    actor=request.actor or request.guest or request.customer,
                    action="order.create",
                    obj=order,
                    data={"line": request.line.msisdn}
                    | ({"promotions": [p.pk for p in promoted.taken]} if promoted.taken else {}),
                )
                for _, request, order, promoted in made
            ]
        )
        answers.update({index: order for index, _, order, _ in made})
    return answers


def _priced(
    request: RenewalRequest, renewal: RenewalQuote, promotions: list, now: datetime, price_of, exclude=frozenset()
) -> PromotedQuote:
    """The renewal's quote with the promotions it would take (less ``exclude``). A typed code that
    does not apply refuses the order, and the price the customer was shown (``expected_total``)
    must still be the price."""
    promoted = _promote(
        renewal,
        promotions,
        customer=request.customer,
        channel=request.channel,
        code=request.promotion_code,
        now=now,
        price_of=price_of,
        exclude=exclude,
    )
    if promoted.code_refusal is not None:
        raise promoted.code_refusal
    if request.expected_total is not None and Decimal(request.expected_total) != promoted.quote.total.amount:
        raise PriceChanged()
    return promoted


def _taken_in_bulk(priced: list[tuple[int, RenewalRequest, list, PromotedQuote]]) -> set[int]:
    """Take the redemptions of a batch's orders whose promotions have no per-customer or per-line
    limit with one conditional UPDATE per promotion (not one per order: an automatic offer in an
    auto-renew batch would otherwise lock its row for the whole batch). Returns the requests (by
    index) whose promotions are taken, or that take none; if a promotion has no room for all of
    them, none is taken here and each order takes its own (``_taken_one_by_one``)."""
    done = {index for index, _, _, promoted in priced if not promoted.taken}
    simple = [
        (index, promoted)
        for index, _, _, promoted in priced
        if promoted.taken and all(p.limit_per_customer is None and p.limit_per_line is None for p in promoted.taken)
    ]
    totals: dict[Any, list] = {}
    for _, promoted in simple:
        for promotion in promoted.taken:
            total = totals.setdefault(promotion, [0, Decimal(0)])
            total[0] += 1
            total[1] += promoted.offers.cost_of(promotion.pk)
    if totals and promotions_take_in_bulk({promotion: tuple(total) for promotion, total in totals.items()}):
        done |= {index for index, _ in simple}
    return done


def _taken_one_by_one(
    request: RenewalRequest,
    renewal: RenewalQuote,
    promotions: list,
    now: datetime,
    price_of,
    taking: Counter,
    promoted: PromotedQuote,
) -> PromotedQuote:
    """Take one order's redemptions from their promotions' limits and budgets (written with the
    order). A typed code that runs out meanwhile refuses the order; an automatic offer that runs
    out is left out and the order priced again without it."""
    exclude: frozenset[int] = frozenset()
    while promoted.taken:
        try:
            promotions_take(
                taken=[(promotion, promoted.offers.cost_of(promotion.pk)) for promotion in promoted.taken],
                customer_id=request.customer.pk,
                line_id=request.line.pk,
                pending=taking,
            )
        except PromotionRefused as refusal:
            if refusal.promotion.code:
                raise
            exclude |= {refusal.promotion.pk}
            promoted = _priced(request, renewal, promotions, now, price_of, exclude)
            continue
        break
    return promoted


def _redemptions(order: Order | None, promoted: PromotedQuote) -> list:
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


OPEN = [Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]
ABANDONED_ACTION_AFTER = timedelta(minutes=30)
STALE_PENDING_AFTER = timedelta(seconds=settings.REFILL_STALE_PENDING_AFTER)


def redemptions_release_stale(*, now: datetime | None = None) -> int:
    """Give back the promotions held by orders that can no longer be paid (abandoned past
    ORDER_PAYABLE_FOR, or cancelled) and have no payment in flight or taken. Safe to run twice."""
    now = now or timezone.now()
    stale = (
        Order.objects.filter(redemptions__status=Redemption.Status.HELD)
        .exclude(status=Order.Status.PAID)
        .filter(Q(status=Order.Status.CANCELLED) | Q(created_at__lt=now - ORDER_PAYABLE_FOR))
        .exclude(payments__status__in=[*OPEN, Payment.Status.SUCCEEDED])
        .values_list("pk", flat=True)
        .distinct()
    )
    with transaction.atomic():
        order_ids = list(
            Order.objects.select_for_update().filter(pk__in=list(stale)).order_by("pk").values_list("pk", flat=True)
        )
        # Checked again under the order locks: a payment may have started meanwhile.
        busy = set(
            Payment.objects.filter(order_id__in=order_ids, status__in=[*OPEN, Payment.Status.SUCCEEDED]).values_list(
                "order_id", flat=True
            )
        )
        return redemptions_release(order_ids=[pk for pk in order_ids if pk not in busy], now=now)


def _payable_refusals(orders: list[Order], now: datetime) -> dict[int, RefillError]:
    """Why each of ``orders`` may not be paid now (orders absent from the answer may be): the
    checks made under the order locks before any money moves or is held, in a few queries however
    many orders there are. Locks the orders' lines, in primary-key order."""
    refusals: dict[int, RefillError] = {}
    wall = timezone.now()
    # Too old to pay yesterday's price, or declined and superseded by a later paid order.
    gone = orders_no_longer_payable(orders, now)
    for order in orders:
        if order.status not in (Order.Status.AWAITING_PAYMENT, Order.Status.FAILED) or order.pk in gone:
            refusals[order.pk] = OrderNotPayable()
    topups = [order for order in orders if order.line_id is None and order.pk not in refusals]
    if topups:
        # Top-ups: one open payment per customer at a time.
        busy = set(
            Payment.objects.filter(
                order__customer_id__in={order.customer_id for order in topups},
                order__line__isnull=True,
                status__in=OPEN,
            ).values_list("order__customer_id", flat=True)
        )
        refusals.update({order.pk: PaymentInProgress() for order in topups if order.customer_id in busy})
    # Orders for a line: renewals, and add-on passes (told apart by their item below).
    renewals = [order for order in orders if order.line_id is not None and order.pk not in refusals]
    if not renewals:
        return refusals
    lines = _lock_fresh(Line, [order.line for order in renewals], LINE_STATE)
    line_ids = list(lines)
    # Invariant 4: no new attempt for a line while one of its payments is unknown, or pending so
    # long that its process probably died (a new order after a timeout must not charge again
    # before reconciliation knows what the first did). Another order's payment that is simply in
    # flight is allowed: its periods count against the prepaid limit below (``flight``).
    stale = wall - STALE_PENDING_AFTER
    doubtful: dict[int, set[int]] = {}
    open_orders = set()
    for order_id, line_id, status, created_at in Payment.objects.filter(
        order__line_id__in=line_ids, status__in=OPEN
    ).values_list("order_id", "order__line_id", "status", "created_at"):
        open_orders.add(order_id)
        if status == Payment.Status.UNKNOWN or (status == Payment.Status.PENDING and created_at < stale):
            doubtful.setdefault(line_id, set()).add(order_id)
    items = {pk: found[0] for pk, found in _items_of(renewals).items()}
    # Whether a plan is still sold and how far ahead it may be paid: as they are now, not as the
    # plan object was read.
    plans = {
        pk: (active, limit)
        for pk, active, limit in Plan.objects.filter(pk__in={item.plan_id for item in items.values()}).values_list(
            "pk", "is_active", "max_prepaid_periods"
        )
    }
    ahead, flight = periods_ahead_of(line_ids, now), periods_in_flight(open_orders) if open_orders else {}
    price_of = _price_lookup(now)
    # Add-on orders (a line, an ADDON item): the pass needs the line's period running now, and no
    # prepaid-periods limit applies.
    addon_lines = {order.line_id for order in renewals if items[order.pk].kind == OrderItem.Kind.ADDON}
    if addon_lines:
        from .addons import AddonLineNotRunning, addon_line_running, periods_running

        running_periods = periods_running(addon_lines, now)
    for order in renewals:
        line, item = lines[order.line_id], items[order.pk]
        addon = item.kind == OrderItem.Kind.ADDON
        if doubtful.get(line.pk, set()) - {order.pk} or order.pk in open_orders:
            refusals[order.pk] = PaymentInProgress()
            continue
        if addon and not addon_line_running(line, running_periods.get(line.pk), now):
            refusals[order.pk] = AddonLineNotRunning()
            continue
        if not addon and not is_renewable(LineStatus(line.status)):
            refusals[order.pk] = LineNotRenewable()
            continue
        active, limit = plans[item.plan_id]
        if not active:
            refusals[order.pk] = PlanNotAvailable()
            continue
        current = price_of(item.plan, order.currency)
        if current is None or current.pk != item.plan_price_id:
            refusals[order.pk] = PriceChanged()
            continue
        if addon:
            continue
        others = sum(n for pk, n in flight.get(line.pk, {}).items() if pk != order.pk)
        room = prepaid_room(limit=limit, ahead=ahead.get(line.pk, 0), lapsed=_line_lapsed(line, now), in_flight=others)
        # Free periods count too: an order whose promotion gives more than there is room for now
        # (another order was paid meanwhile) is not paid; a new one is priced for the room left.
        if not prepaid_fits(periods=item.periods, free=item.free_periods, room=room):
            refusals[order.pk] = TooManyPeriods(limit=limit, allowed=room)
    return refusals


def orders_payable_refusals(orders: list[Order], now: datetime | None = None) -> dict[int, RefillError]:
    """Why each of ``orders`` may not be paid now: the checks every payment makes before money
    moves, for a caller that wants to know before it charges anything (a business's bulk job).
    Locks the orders' lines; call it inside a transaction."""
    return _payable_refusals(orders, now or timezone.now())


def _check_payable(order: Order, now: datetime) -> None:
    """The checks made under the order lock before any money moves (or is held)."""
    refusal = _payable_refusals([order], now).get(order.pk)
    if refusal is not None:
        raise refusal


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
        orders = _lock_fresh(Order, [charge.order for charge in charges], ORDER_STATE)
        ids = list(orders)
        charged = set(
            Payment.objects.filter(order_id__in=ids, status=Payment.Status.SUCCEEDED).values_list("order_id", flat=True)
        )
        for order in orders.values():
            if order.status == Order.Status.PAID or order.pk in charged:
                answers[order.pk] = None
        payable = [order for order in orders.values() if order.pk not in answers]
        answers.update(_payable_refusals(payable, now))
        guests = [order for order in payable if order.payer == Order.Payer.GUEST]
        if guests:
            from .gifts import guest_decline_refusals

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
        accounts = _Accounts()
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
            holds.append(_wallet_move(payment, order, accounts))
        entries_post(holds)
        answers.update({payment.order_id: payment for payment in card_payments})
    return answers


def _wallet_move(payment: Payment, order: Order, accounts: _Accounts, *, release: bool = False) -> EntrySpec:
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

    card: CardDetails | None = None
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


def order_pay(*, order: Order, pay_with: PayWith, actor=None, return_url: str = "") -> Payment | None:
    """Pay ``order`` the way the customer chose, through the configured gateway. Shared by the
    portal and the API. Raises TokenizationError for a card the provider refuses outright and
    RefillError for an order that cannot be paid now; a decline comes back as a failed payment."""
    from refill.payments.gateways import gateway_for
    from refill.payments.services import card_tokenize, wallet_tokenize

    if order.total == 0:
        # Promotions took off the whole price: nothing to charge, the order is fulfilled at once.
        return order_pay_wallet(order=order, actor=actor)
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
            _check_payable(order, now)
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


def order_pay_cash(*, order: Order, agent, now: datetime | None = None) -> Payment:
    """A shop agent took the order's total in cash: record it and fulfil in one transaction. The
    cash is owed by the agent's drawer (ledger account shop_cash:<agent>)."""
    return _order_pay_in_house(
        order=order, method=Payment.Method.CASH, gateway=f"agent-{agent.pk}", actor=agent, now=now
    )


def orders_pay_wallet(
    *, orders: list[Order], actor=None, now: datetime | None = None
) -> dict[int, Payment | RefillError | None]:
    """Pay many orders, each whole, from their customers' wallets and fulfil them, in one
    transaction and a few statements however many (a business's bulk job). Answers per order: its
    wallet payment; None if it was already paid (never paid twice); or why it may not be paid now,
    with nothing written for it (the checks of ``_payable_refusals``, a promotion run out, or a
    wallet that no longer covers it: orders are paid in primary-key order until it does not)."""
    now = now or timezone.now()
    answers: dict[int, Payment | RefillError | None] = {}
    with transaction.atomic():
        locked = _lock_fresh(Order, orders, ORDER_STATE)
        charged = set(
            Payment.objects.filter(order_id__in=list(locked), status=Payment.Status.SUCCEEDED).values_list(
                "order_id", flat=True
            )
        )
        answers.update({pk: None for pk, order in locked.items() if order.status == Order.Status.PAID or pk in charged})
        payable = [order for pk, order in sorted(locked.items()) if pk not in answers]
        answers.update(_payable_refusals(payable, now))
        payable = [order for order in payable if order.pk not in answers]
        answers.update(redemptions_retake(payable))
        payable = [order for order in payable if order.pk not in answers]
        accounts = _Accounts()
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


def payment_complete(*, payment: Payment, result: ChargeResult, actor=None, now: datetime | None = None) -> Payment:
    """Settle one card attempt with the provider's answer (``payments_complete`` with one)."""
    return payments_complete(results=[(payment, result)], actor=actor, now=now)[0]


def payments_complete(
    *, results: list[tuple[Payment, ChargeResult]], actor=None, now: datetime | None = None
) -> list[Payment]:
    """Settle card attempts with the provider's answers, in one transaction however many: a
    success marks its held wallet part paid too and fulfils the order in the same transaction; a
    failure gives the wallet part back; an attempt waiting for the customer's bank keeps its hold;
    no answer leaves it unknown for reconciliation. An attempt already settled is left as it is,
    so a late or repeated answer changes nothing. If fulfilment fails, the charges stay recorded
    and a task per order finishes it (ledger_check flags any it cannot)."""

    answered: list[Payment] = []
    unfulfilled: list[int] = []
    with transaction.atomic():
        orders = _lock_fresh(Order, [payment.order for payment, _ in results], ORDER_STATE)
        order_ids = list(orders)
        locked = _lock_fresh(Payment, [payment for payment, _ in results], PAYMENT_STATE)
        held: dict[int, list[Payment]] = {}
        for wallet_payment in Payment.objects.filter(
            order_id__in=order_ids, method=Payment.Method.WALLET, status=Payment.Status.PENDING
        ).order_by("pk"):
            held.setdefault(wallet_payment.order_id, []).append(wallet_payment)
        accounts = _Accounts()
        changed, releases, events, paid, failed = [], [], [], [], []
        for given, result in results:
            payment = locked[given.pk]
            answered.append(payment)
            if payment.is_terminal:
                continue
            order = orders[payment.order_id]
            changed.append(payment)
            payment.provider_reference = result.provider_reference or payment.provider_reference
            if result.status == ChargeStatus.REQUIRES_ACTION:
                # The customer confirms with their bank first; the wallet part stays held meanwhile.
                payment.status = Payment.Status.REQUIRES_ACTION
                payment.action_url = result.next_url
            elif result.status == ChargeStatus.SUCCEEDED:
                payment.status = Payment.Status.SUCCEEDED
                payment.completed_at = timezone.now()
                wallet_parts = held.pop(order.pk, [])
                for wallet_payment in wallet_parts:
                    wallet_payment.status = Payment.Status.SUCCEEDED
                    wallet_payment.completed_at = payment.completed_at
                changed += wallet_parts
                paid.append((order, [*wallet_parts, payment]))
            elif result.status == ChargeStatus.FAILED:
                payment.status = Payment.Status.FAILED
                payment.decline_code = result.decline_code or ""
                payment.completed_at = timezone.now()
                failed.append(order.pk)
                for wallet_payment in held.pop(order.pk, []):
                    releases.append(_wallet_move(wallet_payment, order, accounts, release=True))
                    wallet_payment.status = Payment.Status.FAILED
                    wallet_payment.decline_code = payment.decline_code
                    wallet_payment.completed_at = payment.completed_at
                    changed.append(wallet_payment)
                events.append(
                    audit_event(
                        actor=actor or order.customer, action="payment.failed", obj=payment, reason=payment.decline_code
                    )
                )
            else:
                # The wallet hold stays until reconciliation knows what the card did.
                payment.status = Payment.Status.UNKNOWN
                events.append(audit_event(actor=actor or order.customer, action="payment.unknown", obj=payment))
        bulk_set(changed, PAYMENT_STATE)
        entries_post(releases)
        if failed:
            # The promotions an unpaid order held go back; paying it again takes them again.
            redemptions_release(order_ids=failed)
        audit_records(events)
        # Paid orders are fulfilled in the same transaction; a fulfilment that fails is rolled back
        # on its own, never the recorded charges, and left to a task (enqueued with them).
        whole, unfulfilled = [], []
        for order, payments in paid:
            if sum(p.amount for p in payments) == order.total:
                whole.append((order, payments))
            else:
                unfulfilled.append(order.pk)
        try:
            with transaction.atomic():
                orders_fulfil(paid=whole, actor=actor, now=now)
        except Exception:
            logger.exception("orders %s: fulfilment failed after payment; a task will retry", [o.pk for o, _ in whole])
            unfulfilled += [order.pk for order, _ in whole]
        for order_id in unfulfilled:
            fulfil_paid_order.enqueue(order_id)
    for order_id in unfulfilled:
        try:
            order_fulfil_paid(order_id=order_id, actor=actor, now=now)
        except Exception:
            # The money is recorded; the enqueued task (and ledger_check) make sure the order is
            # fulfilled or flagged. Never roll the recorded charge back.
            logger.exception("order %s: fulfilment failed after payment; the task will retry", order_id)
    return answered


RECONCILE_BACKOFF = [timedelta(minutes=minutes) for minutes in (1, 2, 5, 10, 30, 60)]


def payments_reconcile(*, now: datetime | None = None, batch: int = 200) -> int:
    """Ask the provider about card attempts left unknown, or pending so long that their process
    must have died, and settle them exactly as if the answer had come back in time: a success is
    fulfilled once, a failure releases any wallet hold. Unanswered ones are asked again later, at
    growing intervals (1, 2, 5, 10, 30, then every 60 minutes). Safe to run twice or on two machines:
    settling goes through payment_complete, which locks the payment and ignores a settled one."""
    from refill.payments.services import provider_cancel, provider_fetch

    now = now or timezone.now()
    due = (
        Payment.objects.filter(method=Payment.Method.CARD)
        .filter(
            Q(status=Payment.Status.UNKNOWN)
            | Q(status=Payment.Status.PENDING, created_at__lt=now - STALE_PENDING_AFTER)
            | Q(status=Payment.Status.REQUIRES_ACTION, created_at__lt=now - ABANDONED_ACTION_AFTER)
        )
        .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
        .order_by("pk")[:batch]
    )
    settled = 0
    for payment in due:
        try:
            if payment.status == Payment.Status.REQUIRES_ACTION:
                # Abandoned at the bank's confirmation step: cancel it, so a late confirmation fails.
                result = provider_cancel(payment=payment)
            else:
                result = provider_fetch(payment=payment)
        except Exception:
            logger.exception("payment %s: the provider did not answer the status request", payment.pk)
            result = ChargeResult(ChargeStatus.UNKNOWN)
        if result.status in (ChargeStatus.UNKNOWN, ChargeStatus.REQUIRES_ACTION):
            delay = RECONCILE_BACKOFF[min(payment.reconcile_attempts, len(RECONCILE_BACKOFF) - 1)]
            Payment.objects.filter(pk=payment.pk, status__in=OPEN).update(
                status=Payment.Status.UNKNOWN,
                reconcile_attempts=F("reconcile_attempts") + 1,
                next_check_at=now + delay,
            )
            continue
        Payment.objects.filter(pk=payment.pk).update(reconcile_attempts=F("reconcile_attempts") + 1)
        completed = payment_complete(payment=payment, result=result, now=now)
        audit_record(actor=None, action="payment.reconciled", obj=completed, reason=completed.status)
        settled += 1
    if settled:
        receipts_number()
    return settled


def payment_resume(*, payment: Payment, actor=None) -> Payment:
    """The customer is back from their bank's confirmation step: ask the provider how it ended and
    settle the attempt (still waiting is a fine answer too)."""
    from refill.payments.services import provider_fetch

    if payment.status != Payment.Status.REQUIRES_ACTION:
        return payment
    try:
        result = provider_fetch(payment=payment)
    except Exception:
        logger.exception("payment %s: the provider did not answer after the confirmation step", payment.pk)
        return payment
    if result.status == ChargeStatus.REQUIRES_ACTION:
        return payment
    payment = payment_complete(payment=payment, result=result, actor=actor)
    receipts_number()
    return payment


def order_fulfil_paid(*, order_id: int, actor=None, now: datetime | None = None) -> bool:
    """Fulfil an order whose successful payments cover its total. Idempotent; True once paid."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.PAID:
            return True
        payments = list(order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk"))
        if sum((p.amount for p in payments), Decimal(0)) != order.total:
            return False
        order_fulfil(order=order, payments=payments, actor=actor, now=now)
        return True


def _grant(line: Line, plan: Plan, period: Period, granted: dict[tuple[int, datetime], list[Bucket]]) -> list[Bucket]:
    """The period's buckets (unsaved), also filed in ``granted`` by (line, expiry). Rule 6: under
    a plan whose rule is "roll over once", the previous period's unused allowance lives on through
    the next period, and only that one; when that previous period was granted in this same batch
    (several periods bought at once) its buckets are extended here, before anything is written."""
    for bucket in granted.pop((line.pk, period.start), []):
        rule, rolled = bucket.period.plan.rollover, bucket.rolled_over
        until = rolled_over_until(rule, rolled, bucket.expires_at, next_start=period.start, next_end=period.end)
        if until is not None:
            bucket.expires_at, bucket.rolled_over = until, True
    new = _buckets(
        line, period, _allowances(plan), valid_from=period.start, expires_at=period.end, source=Bucket.Source.PERIOD
    )
    granted.setdefault((line.pk, period.end), []).extend(new)
    return new


def _allowances(plan: Plan) -> tuple[tuple[str, int | None], ...]:
    return ((Bucket.Kind.DATA, plan.data_mb), (Bucket.Kind.VOICE, plan.voice_minutes), (Bucket.Kind.SMS, plan.sms))


def _buckets(line: Line, period: Period, allowances, *, valid_from, expires_at, source: str) -> list[Bucket]:
    """Unsaved buckets for ``allowances`` ((kind, amount) pairs: None is unlimited, 0 is none)."""
    return [
        unsaved(
            Bucket,
            line=line,
            period=period,
            kind=kind,
            granted=amount or 0,
            unlimited=amount is None,
            valid_from=valid_from,
            expires_at=expires_at,
            source=source,
        )
        for kind, amount in allowances
        if amount != 0
    ]


def _roll_over_stored(first_new: dict[int, Period]) -> None:
    """Rule 6 for buckets already stored: each line's last period before the new ones, if its plan
    rolls over once, lives on through the first new period."""
    if not first_new:
        return
    candidates = Bucket.objects.filter(
        line_id__in=list(first_new),
        source=Bucket.Source.PERIOD,
        period__end__in={period.start for period in first_new.values()},
        period__revoked_at__isnull=True,
    ).values_list("pk", "line_id", "period__plan__rollover", "rolled_over", "expires_at")
    by_expiry: dict[datetime, list[int]] = {}
    for pk, line_id, rule, rolled_over, expires_at in candidates:
        new = first_new[line_id]
        until = rolled_over_until(rule, rolled_over, expires_at, next_start=new.start, next_end=new.end)
        if until is not None:
            by_expiry.setdefault(until, []).append(pk)
    for expires_at, pks in by_expiry.items():
        Bucket.objects.filter(pk__in=pks).update(expires_at=expires_at, rolled_over=True)


class _Accounts:
    """account_for, asked once per account in a batch."""

    def __init__(self) -> None:
        self._known: dict[tuple, Account] = {}

    def __call__(self, purpose: str, currency: str, *, customer=None, reference: str = "") -> Account:
        key = (purpose, currency, customer.pk if customer is not None else None, reference)
        if key not in self._known:
            self._known[key] = account_for(purpose, currency, customer=customer, reference=reference)
        return self._known[key]


def _capture_spec(
    order: Order, payments: list[Payment], items: list[OrderItem], held: set[str], accounts: _Accounts, actor
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


def _promotion_buckets(
    redeemed: list, order_periods: dict[int, list[Period]], lines: dict[int, Line], orders: dict[int, Order], now
) -> list[Bucket]:
    """What paid orders' promotions give besides the discount and the free periods (unsaved): bonus
    allowances for as long as the periods bought, and free add-ons from now for their own validity.
    They hang on the order's first period, so a refund that revokes it revokes them too."""
    new = []
    for redemption in redeemed:
        periods = order_periods[redemption.order_id]
        line = lines[orders[redemption.order_id].line_id]
        first, last = periods[0], periods[-1]
        bonus = (
            (Bucket.Kind.DATA, redemption.bonus_data_mb),
            (Bucket.Kind.VOICE, redemption.bonus_voice_minutes),
            (Bucket.Kind.SMS, redemption.bonus_sms),
        )
        new += _buckets(line, first, bonus, valid_from=first.start, expires_at=last.end, source=Bucket.Source.PROMOTION)
        addon = redemption.addon_plan
        if addon is not None:
            span = plan_periods(
                current_end=None,
                now=now,
                lapsed=True,
                validity=addon.validity,
                count=1,
                zone=line.market.zone,
                anchor_day=None,
            )[0]
            new += _buckets(
                line, first, _allowances(addon), valid_from=span.start, expires_at=span.end, source=Bucket.Source.ADDON
            )
    return new


def _promotion_specs(
    redeemed: list, orders: dict[int, Order], items: dict[int, list[OrderItem]], accounts: _Accounts, actor
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
        kind = next(item.plan.kind for item in items[order_id] if item.kind == OrderItem.Kind.RENEWAL)
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


def order_fulfil(*, order: Order, payments: list[Payment], actor=None, now: datetime | None = None) -> None:
    """Grant what a paid order bought (``orders_fulfil`` with one order)."""
    orders_fulfil(paid=[(order, payments)], actor=actor, now=now)


def orders_fulfil(*, paid: list[tuple[Order, list[Payment]]], actor=None, now: datetime | None = None) -> None:
    """Grant what paid orders bought: periods and buckets, the lines moved on, the capture entry,
    the receipt, the audit row and the confirmation email, in a few statements however many orders
    there are. Called inside the payment transaction with the orders locked (lines are locked
    here, in primary-key order); the (order_item, sequence) constraint makes a second grant
    impossible, and (order_item, kind) on buckets does the same for an add-on pass, which grants
    buckets on the running period and leaves the line itself as it is (renewals/addons.py).
    Orders already paid are left alone."""
    now = now or timezone.now()
    paid = [(order, payments) for order, payments in paid if order.status != Order.Status.PAID]
    if not paid:
        return
    items = _items_of([order for order, _ in paid])
    renewed = [order.line for order, _ in paid if any(i.kind == OrderItem.Kind.RENEWAL for i in items[order.pk])]
    addons = [order for order, _ in paid if any(i.kind == OrderItem.Kind.ADDON for i in items[order.pk])]
    # Add-on lines are locked with the renewed ones (one primary-key order), but only renewed lines
    # are moved on: an add-on never changes its line's end, plan or status.
    locked = _lock_fresh(Line, renewed + [order.line for order in addons], LINE_STATE) if renewed or addons else {}
    renewed_ids = {line.pk for line in renewed}
    lines = {pk: line for pk, line in locked.items() if pk in renewed_ids}
    line_ids = list(lines)
    periods: list[Period] = []
    buckets: list[Bucket] = []
    granted: dict[tuple[int, datetime], list[Bucket]] = {}
    first_new: dict[int, Period] = {}
    order_periods: dict[int, list[Period]] = {}
    activated: list[int] = []  # new eSIM lines paid for the first time
    for order, _ in paid:
        for item in items[order.pk]:
            if item.kind != OrderItem.Kind.RENEWAL:
                continue
            line, plan = lines[order.line_id], item.plan
            spans = _spans_for(line, plan, item.periods + item.free_periods, now)
            if plan.validity_kind == ValidityKind.DAYS:
                line.anchor_day = None
            elif _line_lapsed(line, now) or line.anchor_day is None:
                line.anchor_day = spans[0].start.astimezone(line.market.zone).day
            for sequence, span in enumerate(spans, start=1):
                period = unsaved(
                    Period, line=line, plan=plan, order_item=item, sequence=sequence, start=span.start, end=span.end
                )
                first_new.setdefault(line.pk, period)
                order_periods.setdefault(order.pk, []).append(period)
                periods.append(period)
                buckets += _grant(line, plan, period, granted)
            if line.period_end is None or spans[-1].end > line.period_end:
                line.period_end = spans[-1].end
            line.plan = plan
            if line.next_plan_id == plan.pk:
                line.next_plan = None  # the plan change it waited for is done
    bulk_insert(periods)
    _roll_over_stored(first_new)
    redeemed = redemptions_redeem(order_ids=list(order_periods), now=now) if order_periods else []
    buckets += _promotion_buckets(redeemed, order_periods, lines, {o.pk: o for o, _ in paid}, now)
    if addons:
        from .addons import addon_buckets

        # After the periods are written: a pass hangs on the period running now.
        buckets += addon_buckets(addons, items, locked, now)
    bulk_insert(buckets)
    if lines:
        # A line whose period running now is a "keep my number" one is retained, else active.
        current = {p.line_id: p.plan for p in periods if p.start <= now < p.end}
        for period in Period.objects.filter(line_id__in=line_ids, start__lte=now, end__gt=now).select_related("plan"):
            current.setdefault(period.line_id, period.plan)
        changes = []
        for order, _ in paid:
            line = lines.get(order.line_id)
            if line is None:
                continue
            plan = current.get(line.pk)
            target = status_after_renewal(keeps_number_only=plan is not None and plan.kind == Plan.Kind.RETENTION)
            change = line_move(line=line, target=target, cause="renewal", reference=f"order:{order.pk}")
            if change is not None:
                changes.append(change)
                if change.from_status == LineStatus.PENDING and line.sim_type == Line.SimType.ESIM:
                    activated.append(line.pk)
        line_changes_save(changes)
        bulk_set(list(lines.values()), ["status", "status_changed_at", "period_end", "anchor_day", "plan", "next_plan"])
    Order.objects.filter(pk__in=list(items)).update(status=Order.Status.PAID, paid_at=now)
    for order, _ in paid:
        order.status, order.paid_at = Order.Status.PAID, now
    wallet_payments = [p.pk for _, payments in paid for p in payments if p.method == Payment.Method.WALLET]
    held = (
        set(
            JournalEntry.objects.filter(
                idempotency_key__in=[f"payment:{pk}:hold" for pk in wallet_payments]
            ).values_list("idempotency_key", flat=True)
        )
        if wallet_payments
        else set()
    )
    accounts = _Accounts()
    specs = [_capture_spec(order, payments, items[order.pk], held, accounts, actor) for order, payments in paid]
    specs += _promotion_specs(redeemed, {o.pk: o for o, _ in paid}, items, accounts, actor)
    entries_post([spec for spec in specs if spec is not None])
    receipts = receipts_issue(orders=[order for order, _ in paid], now=now)
    events = []
    for (order, payments), receipt in zip(paid, receipts, strict=True):
        line = locked.get(order.line_id)
        events.append(
            audit_event(
                actor=actor or order.customer,
                action="order.paid",
                obj=order,
                data={
                    "payments": [payment.pk for payment in payments],
                    "receipt_series": receipt.series_id,
                    "period_end": line.period_end.isoformat() if line else None,
                },
            )
        )
    audit_records(events)
    # One "order.paid" event per order, in this transaction; its handlers (the confirmation or the
    # gift notice, a business's bulk job, a new eSIM line's profile, partner webhooks) subscribe in
    # their own apps and run after the commit: fulfilment knows none of them (docs/events.md).
    activated_ids = set(activated)
    emit_many(
        "order.paid",
        [
            {"line_id": order.line_id, "customer_id": order.customer_id, "order_id": order.pk,
             "payer": order.payer, "bulk_job_id": order.bulk_job_id,
             "msisdn": locked[order.line_id].msisdn if order.line_id in locked else None,
             "total": str(order.total), "currency": order.currency, "paid_at": now,
             "esim_activated": order.line_id in activated_ids}
            for order, _ in paid
        ],
        now=now,
    )  # fmt: skip


def wallet_topup_limits(currency: str) -> tuple[Decimal, Decimal]:
    limits = settings.REFILL_WALLET_TOPUP_LIMITS.get(currency) or settings.REFILL_WALLET_TOPUP_LIMITS["default"]
    return Decimal(limits[0]), Decimal(limits[1])


def order_create_topup(
    *,
    customer,
    market,
    amount: Decimal,
    idempotency_key: str,
    language: str = "en",
    actor=None,
    guest: Guest | None = None,
    gift_line: Line | None = None,
    bulk_job=None,
) -> Order:
    """An order to add ``amount`` to the customer's wallet in the market's currency. A ``guest``
    gives it to the owner of ``gift_line`` (the number they typed). A business's ``bulk_job`` pays
    its batch this way (the one payment, spent at once on the job's lines): the top-up limits, made
    for a person's wallet, do not apply to it."""
    currency = market.currency
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise TopupOutOfRange(low="", high="") from None
    low, high = wallet_topup_limits(currency)
    if bulk_job is not None:
        low, high = Decimal("0.01"), Decimal("99999999")
    if not amount.is_finite() or quantize(amount, currency) != amount or not low <= amount <= high:
        raise TopupOutOfRange(low=money_text(low, currency), high=money_text(high, currency))
    fingerprint = _fingerprint(
        {
            "topup": str(amount),
            "currency": currency,
            **({"line": gift_line.pk} if gift_line else {}),
            **({"bulk_job": bulk_job.pk} if bulk_job is not None else {}),
        }
    )
    existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict()
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.create(
                customer=customer,
                market=market,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                currency=currency,
                subtotal=amount,
                tax=Decimal(0),
                total=amount,
                tax_rate=Decimal(0),
                tax_inclusive=True,
                language=language,
                bulk_job=bulk_job,
                **_payer_fields(guest, gift_line),
            )
            OrderItem.objects.create(
                order=order, kind=OrderItem.Kind.WALLET_TOPUP, periods=1, unit_price=amount, amount=amount
            )
            audit_record(
                actor=actor or guest or customer, action="order.create", obj=order, data={"topup": str(amount)}
            )
            return order
    except IntegrityError:
        existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None or existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict() from None
        return existing
