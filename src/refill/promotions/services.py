"""Promotions as the order flow sees them: the offers an order may take, and their redemptions,
held when the order is created, made final when it is paid, released when its payment fails."""

from __future__ import annotations

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


def promotions_for(*, market, code: str = "", now: datetime | None = None) -> list[Promotion]:
    """The automatic promotions running in ``market`` now, and the one with ``code`` (whatever its
    state: the customer is told why it does not apply). An unknown code is an error."""
    now = now or timezone.now()
    running = Q(code="", paused=False, starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    wanted = running
    code = normalise_code(code)
    if code:
        wanted |= Q(code=code)
    found = list(Promotion.objects.filter(Q(market=market) & wanted).prefetch_related("plans"))
    if code and not any(promotion.code == code for promotion in found):
        raise PromotionUnknown()
    return found


def offer_of(promotion: Promotion) -> Offer:
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


def uses_of(promotions: list[Promotion], *, customer, line=None) -> dict[int, Uses]:
    """Each promotion's held and paid redemptions: in total, by this customer, on this line."""
    counts = Redemption.objects.filter(promotion__in=promotions, status__in=ACTIVE).values("promotion")
    mine_filter = {"by_customer": Count("pk", filter=Q(order__customer=customer))}
    if line is not None:
        mine_filter["by_line"] = Count("pk", filter=Q(order__line=line))
    counts = counts.annotate(**mine_filter)
    mine = {row["promotion"]: row for row in counts}
    return {
        promotion.pk: Uses(
            total=promotion.redeemed,
            by_customer=mine.get(promotion.pk, {}).get("by_customer", 0),
            by_line=mine.get(promotion.pk, {}).get("by_line", 0),
            spent=promotion.spent,
        )
        for promotion in promotions
    }


@transaction.atomic
def redemption_hold(*, promotion: Promotion, order, discount: Decimal, cost: Decimal) -> Redemption:
    """Hold one of ``promotion``'s redemptions for ``order``, or refuse. One conditional UPDATE takes
    it from the total limit and the budget (and locks the promotion row, so the per-customer and
    per-line counts that follow cannot race either)."""
    existing = Redemption.objects.filter(promotion=promotion, order=order).first()
    if existing is not None:
        return existing
    room = Q(pk=promotion.pk)
    if promotion.limit_total is not None:
        room &= Q(redeemed__lt=F("limit_total"))
    if promotion.budget is not None:
        room &= Q(spent__lte=F("budget") - cost)
    if not Promotion.objects.filter(room).update(redeemed=F("redeemed") + 1, spent=F("spent") + cost):
        held = Promotion.objects.get(pk=promotion.pk)
        full = held.limit_total is not None and held.redeemed >= held.limit_total
        raise PromotionRefused(Refusal.LIMIT_REACHED if full else Refusal.BUDGET_SPENT)
    active = Redemption.objects.filter(promotion=promotion, status__in=ACTIVE)
    if promotion.limit_per_customer is not None and (
        active.filter(order__customer=order.customer_id).count() >= promotion.limit_per_customer
    ):
        raise PromotionRefused(Refusal.ALREADY_USED)
    if (
        promotion.limit_per_line is not None
        and order.line_id is not None
        and (active.filter(order__line=order.line_id).count() >= promotion.limit_per_line)
    ):
        raise PromotionRefused(Refusal.ALREADY_USED)
    return Redemption.objects.create(promotion=promotion, order=order, discount=discount, cost=cost)


@transaction.atomic
def redemptions_settle(*, order, paid: bool, now: datetime | None = None) -> int:
    """Make ``order``'s held redemptions final (paid) or give them back (the payment failed): at
    most once each, whoever calls first."""
    now = now or timezone.now()
    held = list(Redemption.objects.select_for_update().filter(order=order, status=Redemption.Status.HELD))
    for redemption in held:
        if paid:
            redemption.status = Redemption.Status.REDEEMED
        else:
            redemption.status = Redemption.Status.RELEASED
            Promotion.objects.filter(pk=redemption.promotion_id).update(
                redeemed=F("redeemed") - 1, spent=F("spent") - redemption.cost
            )
        redemption.settled_at = now
        redemption.save(update_fields=["status", "settled_at"])
    return len(held)
