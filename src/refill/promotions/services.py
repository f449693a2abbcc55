"""Promotions as the order flow sees them: the offers an order may take, and their redemptions,
held when the order is created, made final when it is paid, released when its payment fails."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from refill.domain.promotions import Kind, Offer, Refusal, Uses

from .errors import PromotionRefused, PromotionUnknown
from .models import Promotion, Redemption

ACTIVE = (Redemption.Status.HELD, Redemption.Status.REDEEMED)


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


class PromotionLookup:
    """promotions_for, asked once per market (and once per market and code) in a batch."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self._running: dict[int, list[Promotion]] = {}
        self._coded: dict[tuple[int, str], Promotion | None] = {}

    def __call__(self, *, market, code: str = "") -> list[Promotion]:
        found = self._running.get(market.pk)
        if found is None:
            now = self.now
            running = Q(code="", paused=False, starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
            found = self._running[market.pk] = list(_promotions().filter(running, market=market))
        code = normalise_code(code)
        if not code:
            return list(found)
        if (market.pk, code) not in self._coded:
            self._coded[market.pk, code] = _promotions().filter(market=market, code=code).first()
        coded = self._coded[market.pk, code]
        if coded is None:
            raise PromotionUnknown()
        return [*found, coded]


def _promotions():
    return Promotion.objects.select_related("market", "addon_plan").prefetch_related("plans")


def promotions_for(*, market, code: str = "", now: datetime | None = None) -> list[Promotion]:
    """The automatic promotions running in ``market`` now, and the one with ``code`` (whatever its
    state: the customer is told why it does not apply). An unknown code is an error."""
    return PromotionLookup(now)(market=market, code=code)


def offer_of(promotion: Promotion) -> Offer:
    """The rules' view of ``promotion`` (made once per promotion object: a batch asks it per order)."""
    offer = getattr(promotion, "_offer", None)
    if offer is None:
        offer = promotion._offer = _offer_of(promotion)
    return offer


def _offer_of(promotion: Promotion) -> Offer:
    bonus = {"data": promotion.bonus_data_mb, "voice": promotion.bonus_voice_minutes, "sms": promotion.bonus_sms}
    return Offer(
        id=promotion.pk,
        kind=Kind(promotion.kind),
        priority=promotion.priority,
        exclusive=promotion.exclusive,
        percent=promotion.percent,
        amounts={promotion.market.currency: promotion.amount} if promotion.kind == Kind.AMOUNT_OFF else {},
        bonus={kind: amount for kind, amount in bonus.items() if amount},
        buy=promotion.buy_periods,
        free=promotion.free_periods,
        addon_plan=promotion.addon_plan_id,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        paused=promotion.paused,
        plans=frozenset(plan.pk for plan in promotion.plans.all()),
        min_periods=promotion.min_periods,
        channels=frozenset(promotion.channels),
        segments=frozenset(promotion.segments),
        new_customers_only=promotion.new_customers_only,
        first_order_only=promotion.first_order_only,
        limit_total=promotion.limit_total,
        limit_per_customer=promotion.limit_per_customer,
        limit_per_line=promotion.limit_per_line,
        budget=promotion.budget,
    )


def unlimited_kinds(plan) -> frozenset[str]:
    """The allowance kinds ``plan`` gives without limit (a None allowance is unlimited), which no
    bonus adds to (the rules' Buyer.unlimited)."""
    allowances = {"data": plan.data_mb, "voice": plan.voice_minutes, "sms": plan.sms}
    return frozenset(kind for kind, amount in allowances.items() if amount is None)


def uses_of(promotions: list[Promotion], *, customer, line=None) -> dict[int, Uses]:
    """Each promotion's held and paid redemptions: in total, by this customer, on this line (counted
    only for promotions limited per customer or per line)."""
    limited = [p for p in promotions if p.limit_per_customer is not None or p.limit_per_line is not None]
    counts = Redemption.objects.filter(promotion__in=limited, status__in=ACTIVE).values("promotion")
    mine_filter = {"by_customer": Count("pk", filter=Q(order__customer=customer))}
    if line is not None:
        mine_filter["by_line"] = Count("pk", filter=Q(order__line=line))
    counts = counts.annotate(**mine_filter)
    mine = {row["promotion"]: row for row in counts} if limited else {}
    return {
        promotion.pk: Uses(
            total=promotion.redeemed,
            by_customer=mine.get(promotion.pk, {}).get("by_customer", 0),
            by_line=mine.get(promotion.pk, {}).get("by_line", 0),
            spent=promotion.spent,
        )
        for promotion in promotions
    }


def _take_room(promotion: Promotion, count: int, cost: Decimal) -> bool:
    """Add ``count`` redemptions costing ``cost`` to the promotion's counters if its total limit and
    budget leave room for them: one conditional UPDATE, which also locks the row. False: no room."""
    room = Q(pk=promotion.pk)
    if promotion.limit_total is not None:
        room &= Q(redeemed__lte=F("limit_total") - count)
    if promotion.budget is not None:
        room &= Q(spent__lte=F("budget") - cost)
    return bool(Promotion.objects.filter(room).update(redeemed=F("redeemed") + count, spent=F("spent") + cost))


def promotion_take(
    *, promotion: Promotion, customer_id: int, line_id: int | None, cost: Decimal, pending: Counter | None = None
) -> None:
    """Take one of ``promotion``'s redemptions from its limits and budget, or raise PromotionRefused.
    One conditional UPDATE takes it from the total limit and the budget and locks the promotion
    row, so the per-customer and per-line counts that follow cannot race either. Call it inside a
    transaction that writes the redemption row before it commits; ``pending`` counts what this
    transaction took but has not written yet (a batch writes its redemptions at the end)."""
    pending = pending if pending is not None else Counter()
    if not _take_room(promotion, 1, cost):
        held = Promotion.objects.get(pk=promotion.pk)
        promotion.redeemed, promotion.spent = held.redeemed, held.spent
        full = held.limit_total is not None and held.redeemed >= held.limit_total
        raise PromotionRefused(Refusal.LIMIT_REACHED if full else Refusal.BUDGET_SPENT)
    active = Redemption.objects.filter(promotion=promotion, status__in=ACTIVE)
    if promotion.limit_per_customer is not None and (
        active.filter(order__customer=customer_id).count() + pending[promotion.pk, "customer", customer_id]
        >= promotion.limit_per_customer
    ):
        raise PromotionRefused(Refusal.ALREADY_USED)
    if (
        promotion.limit_per_line is not None
        and line_id is not None
        and active.filter(order__line=line_id).count() + pending[promotion.pk, "line", line_id]
        >= promotion.limit_per_line
    ):
        raise PromotionRefused(Refusal.ALREADY_USED)


def promotions_take(
    *, taken: list[tuple[Promotion, Decimal]], customer_id: int, line_id: int | None, pending: Counter
) -> None:
    """``promotion_take`` for each (promotion, cost) an order takes: all of them or, in a savepoint
    rolled back, none. The refusal names the promotion that refused (``refusal.promotion``)."""
    with transaction.atomic():
        for promotion, cost in taken:
            try:
                promotion_take(
                    promotion=promotion, customer_id=customer_id, line_id=line_id, cost=cost, pending=pending
                )
            except PromotionRefused as refusal:
                refusal.promotion = promotion
                raise
    for promotion, cost in taken:
        pending[promotion.pk, "customer", customer_id] += 1
        pending[promotion.pk, "line", line_id] += 1
        promotion.redeemed += 1
        promotion.spent += cost


class _NoRoom(Exception):
    pass


def promotions_take_in_bulk(totals: dict[Promotion, tuple[int, Decimal]]) -> bool:
    """Take ``count`` redemptions costing ``cost`` from each promotion's total limit and budget at
    once (for promotions without per-customer or per-line limits): one conditional UPDATE each,
    in primary-key order. All or nothing: False (and nothing taken) if one has no room for them."""
    try:
        with transaction.atomic():
            for promotion in sorted(totals, key=lambda promotion: promotion.pk):
                if not _take_room(promotion, *totals[promotion]):
                    raise _NoRoom
    except _NoRoom:
        return False
    for promotion, (count, cost) in totals.items():
        promotion.redeemed += count
        promotion.spent += cost
    return True


@transaction.atomic
def redemption_hold(*, promotion: Promotion, order, discount: Decimal, cost: Decimal) -> Redemption:
    """Hold one of ``promotion``'s redemptions for ``order``, or refuse (``promotion_take``)."""
    existing = Redemption.objects.filter(promotion=promotion, order=order).first()
    if existing is not None:
        return existing
    promotions_take(taken=[(promotion, cost)], customer_id=order.customer_id, line_id=order.line_id, pending=Counter())
    return Redemption.objects.create(promotion=promotion, order=order, discount=discount, cost=cost)


def redemptions_retake(orders: list) -> dict[int, PromotionRefused]:
    """Hold again the redemptions given back when an earlier payment of these orders failed, before
    they are paid again. An order whose promotion has since run out cannot be paid at its price:
    it is answered with the refusal, and nothing of it is taken."""
    released = list(
        Redemption.objects.filter(order__in=[order.pk for order in orders], status=Redemption.Status.RELEASED)
        .select_related("promotion")
        .order_by("order_id", "promotion_id")
    )
    if not released:
        return {}
    by_order: dict[int, list[Redemption]] = {}
    for redemption in released:
        by_order.setdefault(redemption.order_id, []).append(redemption)
    owners = {order.pk: (order.customer_id, order.line_id) for order in orders}
    refusals: dict[int, PromotionRefused] = {}
    retaken: list[Redemption] = []
    pending: Counter = Counter()
    for order_id, redemptions in by_order.items():
        customer_id, line_id = owners[order_id]
        try:
            promotions_take(
                taken=[(redemption.promotion, redemption.cost) for redemption in redemptions],
                customer_id=customer_id,
                line_id=line_id,
                pending=pending,
            )
        except PromotionRefused as refusal:
            refusals[order_id] = refusal
            continue
        retaken += redemptions
    Redemption.objects.filter(pk__in=[r.pk for r in retaken]).update(status=Redemption.Status.HELD, settled_at=None)
    return refusals


@transaction.atomic
def redemptions_release(*, order_ids: list[int], now: datetime | None = None) -> int:
    """Give back the held redemptions of orders whose payment failed (or that can no longer be
    paid): at most once each, whoever calls first."""
    now = now or timezone.now()
    held = list(
        Redemption.objects.select_for_update()
        .filter(order_id__in=order_ids, status=Redemption.Status.HELD)
        .order_by("promotion_id", "pk")
    )
    for redemption in held:
        Promotion.objects.filter(pk=redemption.promotion_id).update(
            redeemed=F("redeemed") - 1, spent=F("spent") - redemption.cost
        )
    Redemption.objects.filter(pk__in=[r.pk for r in held]).update(status=Redemption.Status.RELEASED, settled_at=now)
    return len(held)


@transaction.atomic
def redemptions_redeem(*, order_ids: list[int], now: datetime | None = None) -> list[Redemption]:
    """Make the held redemptions of paid orders final, once (a second call finds none held), and
    return them: what they give is granted with the order."""
    now = now or timezone.now()
    held = list(
        Redemption.objects.select_for_update(of=("self",))
        .filter(order_id__in=order_ids, status=Redemption.Status.HELD)
        .select_related("promotion", "addon_plan")
        .order_by("order_id", "promotion__priority", "promotion_id")
    )
    Redemption.objects.filter(pk__in=[r.pk for r in held]).update(status=Redemption.Status.REDEEMED, settled_at=now)
    for redemption in held:
        redemption.status, redemption.settled_at = Redemption.Status.REDEEMED, now
    return held
