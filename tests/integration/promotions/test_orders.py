"""Promotions in the order path: an order takes its offers when it is made, they become final when
it is paid (with their bonus, free periods and add-on granted and their cost in the ledger), and go
back when its payment fails."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.domain.promotions import Refusal
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import account_balance, account_for
from refill.orders.checkout import RenewalRequest, order_create_renewal, orders_create_renewals
from refill.orders.errors import IdempotencyConflict, PriceChanged
from refill.orders.models import Order
from refill.orders.payable import ORDER_PAYABLE_FOR, redemptions_release_stale
from refill.orders.paying import PayWith, order_pay, order_pay_card
from refill.payments.models import Payment
from refill.promotions.errors import PromotionRefused, PromotionUnknown
from refill.promotions.models import Redemption
from refill.subscriptions.models import Bucket
from tests.factories import card_token, make_customer, make_line, make_market, make_plan, renew
from tests.factories import make_promotion as promotion

pytestmark = pytest.mark.django_db

DECLINED = "4000000000000002"


@pytest.fixture
def market():
    return make_market(tax_rate=Decimal("0.10"))


@pytest.fixture
def plan(market):
    return make_plan(market, "us-30day", price="20.00", max_prepaid_periods=6)


def a_line(market, plan):
    customer, _ = make_customer()
    return make_line(customer, market, plan)


def create(line, plan, code="", key="k", periods=1, **extra):
    return order_create_renewal(
        customer=line.owner, line=line, plan=plan, periods=periods, idempotency_key=key, promotion_code=code, **extra
    )


def counters(offer):
    offer.refresh_from_db()
    return offer.redeemed, offer.spent


def test_a_paid_order_redeems_its_offers_and_books_their_cost(market, plan):
    automatic = promotion(market, priority=10)
    coded = promotion(market, code="TWO", kind="amount_off", amount=Decimal(2), priority=20)
    line = a_line(market, plan)
    order, payment = renew(line, plan, promotion_code=" two ")
    assert (order.subtotal, order.discount, order.tax, order.total) == (
        Decimal("20.00"), Decimal("4.00"), Decimal("1.60"), Decimal("17.60"),
    )  # fmt: skip
    assert order.promotion_code == "TWO" and order.status == Order.Status.PAID and payment.amount == order.total
    redemptions = {r.promotion_id: r for r in Redemption.objects.filter(order=order)}
    assert {pk: (r.status, r.discount) for pk, r in redemptions.items()} == {
        automatic.pk: ("redeemed", Decimal("2.00")),
        coded.pk: ("redeemed", Decimal("2.00")),
    }
    assert counters(automatic) == (1, Decimal("2.00")) and counters(coded) == (1, Decimal("2.00"))
    # Revenue at the list price, the discount as each promotion's cost.
    revenue = account_for(Account.Purpose.REVENUE, "USD", reference="base")
    assert account_balance(revenue) == Decimal("20.00")
    for offer in (automatic, coded):
        cost = account_for(Account.Purpose.PROMOTIONS, "USD", reference=str(offer.pk))
        assert account_balance(cost) == Decimal("2.00")
    assert JournalEntry.objects.filter(cause=JournalEntry.Cause.PROMOTION, cause_id=str(order.pk)).count() == 1


def test_a_declined_payment_gives_the_offer_back_and_a_retry_takes_it_again(market, plan):
    offer = promotion(market, code="ONCE", limit_total=1)
    line = a_line(market, plan)
    order = create(line, plan, "ONCE")
    assert counters(offer) == (1, Decimal("2.00"))
    gateway, declined = card_token(DECLINED)
    payment = order_pay_card(order=order, token=declined, gateway=gateway)
    assert payment.status == Payment.Status.FAILED
    assert counters(offer) == (0, Decimal(0)) and Redemption.objects.get(order=order).status == "released"
    gateway, good = card_token()
    payment = order_pay_card(order=order, token=good, gateway=gateway)
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == Decimal("19.80")
    assert counters(offer) == (1, Decimal("2.00")) and Redemption.objects.get(order=order).status == "redeemed"


def test_a_retry_is_refused_when_someone_else_took_the_last_redemption(market, plan):
    offer = promotion(market, code="ONCE", limit_total=1)
    first, second = a_line(market, plan), a_line(market, plan)
    order = create(first, plan, "ONCE")
    gateway, declined = card_token(DECLINED)
    order_pay_card(order=order, token=declined, gateway=gateway)
    renew(second, plan, promotion_code="ONCE")  # takes the redemption given back
    gateway, good = card_token()
    with pytest.raises(PromotionRefused) as refused:
        order_pay_card(order=order, token=good, gateway=gateway)
    assert refused.value.refusal == Refusal.LIMIT_REACHED
    assert not order.payments.filter(status=Payment.Status.PENDING).exists()
    assert order.payments.count() == 1 and counters(offer) == (1, Decimal("2.00"))
    with pytest.raises(PromotionRefused):
        order_pay(order=order, pay_with=PayWith())  # the wallet path asks the same


def test_a_code_that_does_not_apply_makes_no_order(market, plan):
    other = make_plan(market, "us-7day")
    weekly = promotion(market, code="WEEK")
    weekly.plans.add(other)
    line = a_line(market, plan)
    with pytest.raises(PromotionRefused) as refused:
        create(line, plan, "week")
    assert refused.value.refusal == Refusal.NOT_FOR_PLAN
    with pytest.raises(PromotionUnknown):
        create(line, plan, "NOPE")
    assert not Order.objects.exists() and not Redemption.objects.exists() and counters(weekly) == (0, 0)


def test_the_code_is_part_of_the_request(market, plan):
    promotion(market, code="TEN")
    line = a_line(market, plan)
    order = create(line, plan, "TEN")
    assert create(line, plan, " ten ") == order
    with pytest.raises(IdempotencyConflict):
        create(line, plan, "")
    # The price shown must be the price: a total shown without the code is not this order's.
    with pytest.raises(PriceChanged):
        create(line, plan, "TEN", key="other", expected_total=Decimal("22.00"))
    assert create(line, plan, "TEN", key="again", expected_total=Decimal("19.80")).total == Decimal("19.80")


def test_buy_one_get_one_bonus_data_and_a_free_addon_are_granted(market, plan):
    addon = make_plan(
        market, "us-5gb", kind="addon", price="5.00", validity_count=7, data_mb=5120, voice_minutes=0, sms=0
    )
    promotion(market, kind="extra_periods", buy_periods=1, free_periods=1, priority=10)
    promotion(market, kind="bonus_allowance", bonus_data_mb=1024, bonus_sms=50, priority=20)
    promotion(market, kind="free_addon", addon_plan=addon, priority=30)
    line = a_line(market, plan)
    before = timezone.now()
    order, _ = renew(line, plan, periods=2)
    assert order.total == Decimal("44.00")  # nothing off the price: two paid periods and tax
    periods = list(line.periods.order_by("start"))
    assert len(periods) == 4 and line.period_end == periods[-1].end
    promo = {b.kind: b for b in Bucket.objects.filter(line=line, source=Bucket.Source.PROMOTION)}
    assert (promo["data"].granted, promo["sms"].granted) == (1024, 50) and "voice" not in promo
    assert promo["data"].valid_from == periods[0].start and promo["data"].expires_at == periods[-1].end
    extra = Bucket.objects.get(line=line, source=Bucket.Source.ADDON)
    assert extra.kind == "data" and extra.granted == 5120
    assert timedelta(days=7) <= extra.expires_at - before < timedelta(days=7, minutes=1)
    # Two free periods at 20.00 and the add-on at 5.00: the promotions' cost, booked as revenue.
    costs = {r.promotion.kind: r.cost for r in Redemption.objects.filter(order=order).select_related("promotion")}
    assert costs == {"extra_periods": Decimal("40.00"), "bonus_allowance": 0, "free_addon": Decimal("5.00")}
    assert account_balance(account_for(Account.Purpose.REVENUE, "USD", reference="addon")) == Decimal("5.00")
    assert account_balance(account_for(Account.Purpose.REVENUE, "USD", reference="base")) == Decimal("80.00")


def test_an_order_made_free_by_its_offers_is_fulfilled_without_a_charge(market, plan):
    promotion(market, code="FREE", kind="percent_off", percent=Decimal(100))
    line = a_line(market, plan)
    order = create(line, plan, "FREE")
    assert order.total == 0
    payment = order_pay(order=order, pay_with=PayWith(card=None))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and payment.amount == 0 and line.periods.count() == 1
    assert not JournalEntry.objects.filter(cause=JournalEntry.Cause.ORDER).exists()
    assert JournalEntry.objects.filter(cause=JournalEntry.Cause.PROMOTION).count() == 1


def test_an_automatic_offer_that_runs_out_in_a_batch_is_left_out(market, plan):
    offer = promotion(market, limit_per_customer=1)
    customer, _ = make_customer()
    lines = [make_line(customer, market, plan) for _ in range(2)]
    stranger = a_line(market, plan)
    requests = [
        RenewalRequest(line.owner, line, plan, 1, f"batch-{line.pk}", channel="auto") for line in [*lines, stranger]
    ]
    orders = orders_create_renewals(requests=requests)
    assert [order.total for order in orders] == [Decimal("19.80"), Decimal("22.00"), Decimal("19.80")]
    assert counters(offer) == (2, Decimal("4.00"))


def test_an_offer_for_other_channels_or_segments_is_not_taken(market, plan):
    promotion(market, channels=["shop"], priority=10)
    promotion(market, segments=["student"], priority=20)
    line = a_line(market, plan)
    assert create(line, plan, key="web").discount == 0
    line.owner.segments = ["Student"]
    line.owner.save()
    assert create(line, plan, key="student").discount == Decimal("2.00")
    assert create(line, plan, key="shop", channel="shop").discount == Decimal("3.80")


def test_offers_held_by_orders_nobody_pays_go_back(market, plan):
    offer = promotion(market, code="TEN", limit_total=5, starts_at=timezone.now() - timedelta(days=3))
    line = a_line(market, plan)
    abandoned = create(line, plan, "TEN", key="abandoned", now=timezone.now() - ORDER_PAYABLE_FOR - timedelta(hours=1))
    create(line, plan, "TEN", key="fresh")
    assert counters(offer) == (2, Decimal("4.00"))
    assert redemptions_release_stale() == 1
    assert redemptions_release_stale() == 0
    assert Redemption.objects.get(order=abandoned).status == "released" and counters(offer) == (1, Decimal("2.00"))


@pytest.mark.django_db(transaction=True)
def test_two_customers_paying_with_the_last_redemption_at_once_redeem_it_once(plan):
    import threading

    from django.db import connection

    offer = promotion(plan.market, code="LAST", limit_total=1)
    lines = [a_line(plan.market, plan) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def buy(line):
        try:
            barrier.wait()
            order, payment = renew(line, plan, promotion_code="last")
            outcomes.append((payment.status, order.total))
        except PromotionRefused as refused:
            outcomes.append(refused.refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == sorted([("succeeded", Decimal("19.80")), Refusal.LIMIT_REACHED], key=str)
    assert counters(offer) == (1, Decimal("2.00"))
    assert list(Redemption.objects.values_list("status", flat=True)) == ["redeemed"]
    assert Order.objects.count() == 1  # the refused customer has no half-made order


def test_free_periods_that_no_longer_fit_refuse_the_payment(market):
    from refill.orders.errors import TooManyPeriods

    plan = make_plan(market, "us-7day", price="7.00", validity_count=7, max_prepaid_periods=3)
    promotion(market, kind="extra_periods", buy_periods=1, free_periods=1)
    line = a_line(market, plan)
    order = create(line, plan, key="two-plus-one", periods=2)  # 2 paid + 1 free: the whole room
    assert order.items.get().free_periods == 1
    renew(line, plan)  # another order takes a period meanwhile (its free one no longer fits)
    gateway, good = card_token()
    with pytest.raises(TooManyPeriods):
        order_pay_card(order=order, token=good, gateway=gateway)
    assert not order.payments.exists()


def test_a_batch_takes_an_offer_at_once_or_order_by_order_when_it_runs_short(market, plan):
    roomy = promotion(market, budget=Decimal("100.00"), priority=10)
    short = promotion(market, kind="amount_off", amount=Decimal(1), limit_total=2, priority=20)
    lines = [a_line(market, plan) for _ in range(3)]

    def batch(tag):
        requests = [RenewalRequest(line.owner, line, plan, 1, f"{tag}-{line.pk}", channel="auto") for line in lines]
        return orders_create_renewals(requests=requests)

    # The first batch: `short` has room for two of the three, so each order takes its own and the
    # third goes without it. The second: `short` is used up (left out when priced) and `roomy` is
    # taken for all three at once.
    first = batch("first")
    assert counters(roomy) == (3, Decimal("6.00"))
    assert [order.total for order in first] == [Decimal("18.70")] * 2 + [Decimal("19.80")]
    assert counters(short) == (2, Decimal("2.00"))
    second = batch("second")
    assert [order.total for order in second] == [Decimal("19.80")] * 3 and counters(roomy)[0] == 6
