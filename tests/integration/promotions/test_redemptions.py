"""Promotion redemptions: held with the order, final when it is paid, given back when its payment
fails; limits and budget hold under races."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from refill.domain.promotions import Refusal
from refill.orders.checkout import order_create_renewal
from refill.promotions.errors import PromotionRefused, PromotionUnknown
from refill.promotions.models import Promotion, Redemption
from refill.promotions.services import promotions_for, redemption_hold, redemptions_release
from tests.factories import make_customer, make_line, make_market, make_plan


def promotion(market, **fields) -> Promotion:
    values = dict(market=market, name_en="Half off", name_zh_hans="半价", kind="percent_off", percent=Decimal(50),
                  starts_at=timezone.now() - timedelta(days=1))  # fmt: skip
    return Promotion.objects.create(**{**values, **fields})


def order_for(market, plan, email=None):
    customer, _ = make_customer(email)
    line = make_line(customer, market, plan)
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key=f"o-{line.pk}")
    return order, line


@pytest.mark.django_db
def test_codes_and_automatic_offers_are_found():
    market = make_market()
    automatic = promotion(market)
    code = promotion(market, code="HOLIDAY", kind="amount_off", amount=Decimal(2))
    promotion(market, name_en="later", starts_at=timezone.now() + timedelta(days=1))
    promotion(market, name_en="paused", paused=True)
    assert promotions_for(market=market) == [automatic]
    assert set(promotions_for(market=market, code=" holi day ")) == {automatic, code}
    with pytest.raises(PromotionUnknown):
        promotions_for(market=market, code="NOPE")


@pytest.mark.django_db
def test_hold_then_pay_or_fail():
    market = make_market()
    plan = make_plan(market, "us-30day")
    offer = promotion(market, code="ONCE", limit_total=2, limit_per_customer=1, budget=Decimal("10.00"))
    first, line = order_for(market, plan)
    held = redemption_hold(promotion=offer, order=first, discount=Decimal(5), cost=Decimal(5))
    assert redemption_hold(promotion=offer, order=first, discount=Decimal(5), cost=Decimal(5)) == held
    offer.refresh_from_db()
    assert (offer.redeemed, offer.spent) == (1, Decimal(5))
    # The same customer again: already used (a held redemption counts).
    again = order_create_renewal(customer=first.customer, line=line, plan=plan, periods=1, idempotency_key="again")
    with pytest.raises(PromotionRefused) as refused:
        redemption_hold(promotion=offer, order=again, discount=Decimal(5), cost=Decimal(5))
    assert refused.value.refusal == Refusal.ALREADY_USED
    offer.refresh_from_db()
    assert (offer.redeemed, offer.spent) == (1, Decimal(5))  # the refusal changed nothing
    # Over the budget.
    second, line2 = order_for(market, plan)
    with pytest.raises(PromotionRefused) as refused:
        redemption_hold(promotion=offer, order=second, discount=Decimal(6), cost=Decimal(6))
    assert refused.value.refusal == Refusal.BUDGET_SPENT
    # The payment fails: the redemption is given back, once.
    assert redemptions_release(order_ids=[first.pk]) == 1
    assert redemptions_release(order_ids=[first.pk]) == 0
    offer.refresh_from_db()
    assert (offer.redeemed, offer.spent) == (0, Decimal(0))
    assert Redemption.objects.get(pk=held.pk).status == "released"
    redemption_hold(promotion=offer, order=second, discount=Decimal(6), cost=Decimal(6))
    assert Redemption.objects.get(order=second).status == "held"


@pytest.mark.django_db
def test_a_line_limit_counts_the_lines_orders_whoever_owns_them():
    market = make_market()
    plan = make_plan(market, "us-30day")
    offer = promotion(market, code="LINE", limit_per_line=1)
    first, line = order_for(market, plan)
    redemption_hold(promotion=offer, order=first, discount=Decimal(5), cost=Decimal(5))
    again = order_create_renewal(customer=first.customer, line=line, plan=plan, periods=1, idempotency_key="again")
    with pytest.raises(PromotionRefused) as refused:
        redemption_hold(promotion=offer, order=again, discount=Decimal(5), cost=Decimal(5))
    assert refused.value.refusal == Refusal.ALREADY_USED
    other, _ = order_for(market, plan)  # another line: its own limit
    redemption_hold(promotion=offer, order=other, discount=Decimal(5), cost=Decimal(5))
    offer.refresh_from_db()
    assert offer.redeemed == 2


@pytest.mark.django_db(transaction=True)
def test_the_last_redemption_goes_to_one_of_two_racing_customers():
    market = make_market()
    plan = make_plan(market, "us-30day")
    offer = promotion(market, code="LAST", limit_total=1)
    orders = [order_for(market, plan) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def redeem(order):
        try:
            barrier.wait()
            redemption_hold(promotion=offer, order=order, discount=Decimal(5), cost=Decimal(5))
            outcomes.append("held")
        except PromotionRefused as refused:
            outcomes.append(refused.refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(order,)) for order, _line in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["held", Refusal.LIMIT_REACHED]
    offer.refresh_from_db()
    assert offer.redeemed == 1 and Redemption.objects.filter(promotion=offer).count() == 1


@pytest.mark.django_db
def test_the_rules_see_the_tables():
    from refill.domain.money import Money
    from refill.domain.promotions import Buyer, Item, choose
    from refill.promotions.services import offer_of, uses_of

    market = make_market()
    plan = make_plan(market, "us-30day")
    other = make_plan(market, "us-7day")
    offer = promotion(market, code="TWICE", kind="amount_off", amount=Decimal("2.50"), limit_per_line=1)
    offer.plans.add(plan)
    order, line = order_for(market, plan)
    redemption_hold(promotion=offer, order=order, discount=Decimal("2.50"), cost=Decimal("2.50"))
    found = promotions_for(market=market, code="twice")
    uses = uses_of(found, customer=order.customer, line=line)
    assert uses[offer.pk].total == 1 and uses[offer.pk].by_customer == 1 and uses[offer.pk].by_line == 1

    def ask(plan_id, line_uses):
        buyer = Buyer(now=timezone.now(), plan=plan_id, periods=1, channel="web", currency=market.currency)
        price = Money(Decimal("10.00"), market.currency)
        return choose([offer_of(p) for p in found], buyer, line_uses, [Item("plan", price, price)], {})

    assert ask(plan.pk, uses).refused == {offer.pk: Refusal.ALREADY_USED}
    assert ask(other.pk, {}).refused == {offer.pk: Refusal.NOT_FOR_PLAN}
    fresh = uses_of(found, customer=order.customer)
    assert ask(plan.pk, fresh).discount == Decimal("2.50")
