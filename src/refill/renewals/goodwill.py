"""Goodwill extensions: support staff give a line free periods (after an outage, say).

Domain rule 7 says a period is only ever granted by a paid order, so a goodwill extension is one:
an order of the line's plan with every amount 0, paid at once by a zero "goodwill" payment and
fulfilled in the same transaction by the one fulfilment path (``orders_fulfil``). Nothing is ever
charged or credited: a total-0 order posts no capture entry, a goodwill payment can never carry an
amount (a database constraint), and with nothing paid nothing can be refunded. The periods stack
like any renewal's (after the current end; a lapsed line restarts now) and count against the plan's
``max_prepaid_periods``. Every goodwill extension is audited on the line (``line.goodwill_extend``)
with the staff member's reason and the validity end before and after.

The order is created, paid and fulfilled in one transaction, so a refusal leaves nothing behind
(and no unpaid goodwill order ever exists for anyone to pay later).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.catalog.models import Plan
from refill.domain.lifecycle import LineStatus, is_renewable
from refill.errors import RefillError
from refill.lines.models import Line
from refill.orders.errors import IdempotencyConflict, LineNotRenewable, PlanNotAvailable, TooManyPeriods
from refill.orders.fulfilment import order_fulfil
from refill.orders.models import Order, OrderItem
from refill.orders.pricing import RENEWABLE_PLAN_KINDS, RenewalQuote, renewal_quote
from refill.orders.services import receipts_number
from refill.payments.models import Payment

# At most this many periods per goodwill extension (more is a commercial decision, not support's).
GOODWILL_MAX_PERIODS = 3
GOODWILL_GATEWAY = "goodwill"
# Payments still being collected: the periods their orders would grant count against the limit.
IN_FLIGHT = [Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]


# Refusals, in words for staff. Those standing for a renewal refusal keep its stable code.


class GoodwillReasonRequired(RefillError):
    code = "reason_required"
    message = _("Give a reason for the goodwill extension.")


class GoodwillPeriodsOutOfRange(RefillError):
    code = "goodwill_periods_out_of_range"
    message = _("A goodwill extension gives from 1 to %(most)s periods.")


class GoodwillLineNotEligible(LineNotRenewable):
    message = _("This number cannot be extended: its status is %(status)s.")


class GoodwillLineNeverPaid(LineNotRenewable):
    message = _("This number has never been paid for: there is no service to extend yet.")


class GoodwillPlanNotAvailable(PlanNotAvailable):
    message = _(
        "This number's plan is no longer on sale or has no current price, and no plan change is waiting: "
        "there is no plan to extend."
    )


class GoodwillTooManyPeriods(TooManyPeriods):
    message = _(
        "This plan may be paid at most %(limit)s periods ahead; this number can be given at most %(allowed)s more now."
    )


def goodwill_plan(line: Line, now: datetime | None = None) -> Plan | None:
    """The plan a goodwill extension gives more of: the line's own plan (what the customer has now),
    or, if that one can no longer be renewed, the plan its next renewal would use (a plan change
    waiting); None if neither is on sale with a current price in the market's currency."""
    now = now or timezone.now()
    candidates = [line.plan]
    if line.next_plan_id and line.next_plan_id != line.plan_id:
        candidates.append(line.next_plan)
    for plan in candidates:
        if (
            plan.market_id == line.market_id
            and plan.is_active
            and plan.kind in RENEWABLE_PLAN_KINDS
            and plan.current_price(line.market.currency, now) is not None
        ):
            return plan
    return None


def _periods_in_flight(line: Line) -> int:
    """Periods that unpaid orders of the line would grant if the payments being collected for them
    succeed: they count against the prepaid limit too, so the line never ends up beyond it."""
    collecting = Payment.objects.filter(order=OuterRef("order"), status__in=IN_FLIGHT)
    total = (
        OrderItem.objects.filter(order__line=line, kind=OrderItem.Kind.RENEWAL)
        .exclude(order__status=Order.Status.PAID)
        .filter(Exists(collecting))
        .aggregate(periods=Sum("periods"), free=Sum("free_periods"))
    )
    return (total["periods"] or 0) + (total["free"] or 0)


def _goodwill_quote(line: Line, periods: int, now: datetime) -> RenewalQuote:
    """The renewal quote for ``periods`` goodwill periods of the line, or the refusal (staff words)."""
    status = LineStatus(line.status)
    if status == LineStatus.PENDING:
        # A line's first period is sold, not given (it would also activate the line and its eSIM).
        raise GoodwillLineNeverPaid()
    if not is_renewable(status):
        raise GoodwillLineNotEligible(status=line.status_label)
    if not 1 <= periods <= GOODWILL_MAX_PERIODS:
        raise GoodwillPeriodsOutOfRange(most=GOODWILL_MAX_PERIODS)
    plan = goodwill_plan(line, now)
    if plan is None:
        raise GoodwillPlanNotAvailable()
    in_flight = _periods_in_flight(line)
    try:
        # The limit is checked with the periods being paid for counted in; the spans the goodwill
        # periods take are the first ``periods`` (they are granted now, before any of those).
        quote = renewal_quote(line=line, plan=plan, periods=periods + in_flight, now=now)
    except TooManyPeriods as exc:
        raise GoodwillTooManyPeriods(
            limit=exc.params["limit"], allowed=max(exc.params["allowed"] - in_flight, 0)
        ) from None
    except LineNotRenewable:
        raise GoodwillLineNotEligible(status=line.status_label) from None
    except PlanNotAvailable:
        raise GoodwillPlanNotAvailable() from None
    return quote


@dataclass(frozen=True)
class GoodwillOffer:
    """What the customer 360 offers for a line: the plan, and for each number of periods that may
    be given, the validity end it would lead to; or why nothing can be given (``refusal``)."""

    plan: Plan | None
    choices: tuple[tuple[int, datetime], ...] = ()
    refusal: str = ""


def goodwill_offer(line: Line, now: datetime | None = None) -> GoodwillOffer:
    """The goodwill extension the line may get now (reads only)."""
    now = now or timezone.now()
    try:
        try:
            quote = _goodwill_quote(line, GOODWILL_MAX_PERIODS, now)
            most = GOODWILL_MAX_PERIODS
        except GoodwillTooManyPeriods as exc:
            most = exc.params["allowed"]
            if not most:
                raise
            quote = _goodwill_quote(line, most, now)
    except RefillError as exc:
        return GoodwillOffer(plan=None, refusal=str(exc))
    return GoodwillOffer(plan=quote.plan, choices=tuple((n, quote.spans[n - 1].end) for n in range(1, most + 1)))


def _fingerprint(line: Line, periods: int, reason: str) -> str:
    payload = {"goodwill": True, "line": line.pk, "periods": periods, "reason": reason}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _replayed(customer_id: int, idempotency_key: str, fingerprint: str) -> Order | None:
    """The order an earlier request with this key made (None: none did); a different request with
    the same key is refused (invariant 6)."""
    order = Order.objects.filter(customer_id=customer_id, idempotency_key=idempotency_key).first()
    if order is not None and order.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return order


def order_create_goodwill(
    *, line: Line, periods: int, actor, reason: str, idempotency_key: str, now: datetime | None = None
) -> Order:
    """Give ``line`` ``periods`` free periods of its plan (``goodwill_plan``): a zero order, paid by
    a zero goodwill payment and fulfilled at once, in one transaction; audited with ``reason``.
    The same key again answers with the same order (nothing more is given); a refusal writes
    nothing."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise GoodwillReasonRequired()
    if not idempotency_key or len(idempotency_key) > 80:
        raise IdempotencyConflict()
    fingerprint = _fingerprint(line, periods, reason)
    existing = _replayed(line.owner_id, idempotency_key, fingerprint)
    if existing is not None:
        return existing
    now = now or timezone.now()
    try:
        with transaction.atomic():
            order = _give(line, periods, actor, reason, idempotency_key, fingerprint, now)
    except IntegrityError:
        # A concurrent request with this key won the insert: answer as a replay would.
        order = _replayed(line.owner_id, idempotency_key, fingerprint)
        if order is None:
            raise
        return order
    # Numbered after the commit, in a short transaction of its own (gap-free series).
    receipts_number(series_code=order.receipt.series_id)
    return order


def _give(line: Line, periods: int, actor, reason: str, key: str, fingerprint: str, now: datetime) -> Order:
    # The line is locked first: the order written next is new, so no one else can hold its lock,
    # and orders_fulfil then locks the line again (already ours) as every fulfilment does.
    line = (
        Line.objects.select_for_update(of=("self",))
        .select_related("market", "plan", "next_plan", "owner")
        .get(pk=line.pk)
    )
    # Asked again under the lock: a double click waited here for the first request to commit.
    existing = _replayed(line.owner_id, key, fingerprint)
    if existing is not None:
        return existing
    quote = _goodwill_quote(line, periods, now)
    before = line.period_end
    zero = Decimal(0)
    order = Order.objects.create(
        customer=line.owner,
        line=line,
        market=line.market,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        currency=quote.price.currency,
        subtotal=zero,
        discount=zero,
        tax=zero,
        total=zero,
        tax_rate=line.market.tax_rate,
        tax_inclusive=line.market.tax_inclusive,
        language=line.owner.preferred_language,
        created_at=now,
    )
    # The item names the plan's current price version (which plan and price the periods are of);
    # what was charged for them is the item's amount: nothing.
    OrderItem.objects.create(
        order=order, plan=quote.plan, plan_price=quote.price, periods=periods, unit_price=zero, amount=zero
    )
    audit_record(actor=actor, action="order.create", obj=order, data={"line": line.msisdn, "goodwill": True})
    payment = Payment.objects.create(
        order=order,
        idempotency_key=f"goodwill_{order.pk}_{uuid.uuid4().hex}",
        gateway=GOODWILL_GATEWAY,
        method=Payment.Method.GOODWILL,
        status=Payment.Status.SUCCEEDED,
        amount=zero,
        currency=order.currency,
        completed_at=now,
    )
    order_fulfil(order=order, payments=[payment], actor=actor, now=now)
    after = Line.objects.values_list("period_end", flat=True).get(pk=line.pk)
    audit_record(
        actor=actor,
        action="line.goodwill_extend",
        obj=line,
        reason=reason,
        data={
            "before": {"period_end": before.isoformat() if before else None},
            "after": {"period_end": after.isoformat() if after else None},
            "order": order.pk,
            "plan": quote.plan.code,
            "periods": periods,
        },
    )
    return order
