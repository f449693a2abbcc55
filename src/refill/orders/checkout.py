"""Checkout: renewal orders made from quotes, one or many at once (a single order is a batch of
one), idempotent by the customer's key.

Money safety (architecture.md): the order is written first; the payment attempt is recorded and
committed before the provider is called; the provider is called outside any row lock; the result,
the periods, the buckets, the receipt, the audit row and the confirmation task are written in one
transaction. Locks are taken order -> line, the same order everywhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from refill.audit.services import audit_event, audit_records
from refill.catalog.models import Plan
from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.bulk import bulk_insert, unsaved
from refill.orders.errors import (
    IdempotencyConflict,
    NotOwner,
    PriceChanged,
)
from refill.orders.models import Order, OrderItem
from refill.promotions.errors import PromotionRefused
from refill.promotions.services import (
    PromotionLookup,
    normalise_code,
    promotions_take,
    promotions_take_in_bulk,
)
from refill.subscriptions.selectors import periods_ahead_of

from .batch import LINE_STATE, lock_fresh, payload_fingerprint
from .pricing import PromotedQuote, RenewalQuote, price_lookup, quote_promote, redemptions_of, renewal_quote_lookup


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


def payer_fields(guest: Guest | None, line: Line | None) -> dict:
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
        payload: dict[str, object] = {"line": self.line.pk, "plan": self.plan.pk, "periods": self.periods}
        if code := normalise_code(self.promotion_code):
            payload["promotion_code"] = code
        return payload_fingerprint(payload)


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
                won = _existing_orders([request]).get((request.customer.pk, request.idempotency_key))
                if won is None:
                    raise
                answers[index] = won if won.request_fingerprint == request.fingerprint else IdempotencyConflict()
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
        lines = lock_fresh(Line, [request.line for _, request in fresh], LINE_STATE)
        ahead = periods_ahead_of(list(lines), at)
        price_of = price_lookup(at)
        promotions_of = PromotionLookup(at)
        taking: Counter = Counter()  # redemptions taken in this batch, written with the orders
        priced: list[tuple[int, RenewalRequest, list, PromotedQuote]] = []
        for index, request in fresh:
            line, plan = request.line, request.plan
            if line.pk not in lines or line.owner_id != request.customer.pk:
                answers[index] = NotOwner()
                continue
            try:
                renewal = renewal_quote_lookup(
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
                **payer_fields(request.guest, line),
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
        bulk_insert(row for _, _, order, promoted in made for row in redemptions_of(order, promoted))
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
    promoted = quote_promote(
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
