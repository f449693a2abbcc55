"""Promotion rules: eligibility, deterministic stacking, and discounts that stay within the price."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from refill.domain.money import Money
from refill.domain.promotions import Buyer, Item, Kind, Offer, Refusal, Uses, check, choose, stacking_order

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def usd(text) -> Money:
    return Money(Decimal(text), "USD")


def buyer(**changes) -> Buyer:
    values = dict(now=NOW, plan=1, periods=1, channel="web", currency="USD", new_customer=False, first_order=False)
    return Buyer(**{**values, **changes})


def item(price="10.00", periods=1) -> Item:
    unit = usd(price)
    return Item("plan", Money(unit.amount * periods, "USD"), unit)


def test_each_rule_says_why():
    assert check(Offer(1, Kind.PERCENT_OFF, paused=True), buyer(), Uses()) == Refusal.PAUSED
    assert check(Offer(1, Kind.PERCENT_OFF, starts_at=NOW + timedelta(seconds=1)), buyer(), Uses()) == "not_started"
    assert check(Offer(1, Kind.PERCENT_OFF, ends_at=NOW), buyer(), Uses()) == Refusal.EXPIRED
    assert check(Offer(1, Kind.PERCENT_OFF, plans=frozenset({2})), buyer(), Uses()) == Refusal.NOT_FOR_PLAN
    assert check(Offer(1, Kind.PERCENT_OFF, min_periods=2), buyer(), Uses()) == Refusal.TOO_FEW_PERIODS
    assert check(Offer(1, Kind.EXTRA_PERIODS, buy=2, free=1), buyer(), Uses()) == Refusal.TOO_FEW_PERIODS
    assert check(Offer(1, Kind.PERCENT_OFF, channels=frozenset({"shop"})), buyer(), Uses()) == "not_for_channel"
    assert check(Offer(1, Kind.PERCENT_OFF, segments=frozenset({"student"})), buyer(), Uses()) == "not_for_segment"
    assert check(Offer(1, Kind.PERCENT_OFF, new_customers_only=True), buyer(), Uses()) == "new_customers_only"
    assert check(Offer(1, Kind.FIRST_ORDER, percent=Decimal(50)), buyer(), Uses()) == Refusal.FIRST_ORDER_ONLY
    assert check(Offer(1, Kind.AMOUNT_OFF, amounts={"CNY": Decimal(5)}), buyer(), Uses()) == "not_in_currency"
    assert check(Offer(1, Kind.PERCENT_OFF, limit_per_customer=1), buyer(), Uses(by_customer=1)) == "already_used"
    assert check(Offer(1, Kind.PERCENT_OFF, limit_per_line=1), buyer(), Uses(by_line=1)) == "already_used"
    assert check(Offer(1, Kind.PERCENT_OFF, limit_total=5), buyer(), Uses(total=5)) == Refusal.LIMIT_REACHED
    assert check(Offer(1, Kind.PERCENT_OFF, segments=frozenset({"student"})), buyer(segments=frozenset({"student"})),
                 Uses()) is None  # fmt: skip
    assert check(Offer(1, Kind.FIRST_ORDER, percent=Decimal(50)), buyer(first_order=True), Uses()) is None


def test_half_price_first_month_and_buy_two_get_one():
    half = Offer(1, Kind.FIRST_ORDER, percent=Decimal(50), exclusive=False)
    three_for_two = Offer(2, Kind.EXTRA_PERIODS, buy=2, free=1, exclusive=False)
    result = choose([three_for_two, half], buyer(periods=4, first_order=True), {}, [item("9.99", 4)], {})
    assert [offer.id for offer in result.offers] == [1, 2]  # same priority: by id
    assert result.discounts["plan"] == usd("19.98")
    assert result.free_periods == 2
    assert result.cost_of(1) == Decimal("19.98") and result.cost_of(2) == Decimal("19.98")  # 2 periods at 9.99


def test_an_exclusive_offer_stands_alone_and_a_later_code_is_told_why():
    automatic = Offer(1, Kind.PERCENT_OFF, percent=Decimal(10), priority=10)
    code = Offer(2, Kind.AMOUNT_OFF, amounts={"USD": Decimal(3)}, priority=20, exclusive=False)
    result = choose([code, automatic], buyer(), {}, [item()], {})
    assert [offer.id for offer in result.offers] == [1]
    assert result.refused == {2: Refusal.NOT_COMBINABLE}
    assert result.discount == Decimal("1.00")


def test_the_budget_refuses_an_order_it_cannot_cover():
    offer = Offer(1, Kind.AMOUNT_OFF, amounts={"USD": Decimal(5)}, budget=Decimal(100))
    assert choose([offer], buyer(), {1: Uses(spent=Decimal(95))}, [item()], {}).discount == Decimal(5)
    spent = choose([offer], buyer(), {1: Uses(spent=Decimal("95.01"))}, [item()], {})
    assert spent.offers == () and spent.refused == {1: Refusal.BUDGET_SPENT} and spent.discount == 0


def test_bonus_allowance_and_free_addon():
    data = Offer(1, Kind.BONUS_ALLOWANCE, bonus={"data": 5120}, exclusive=False)
    addon = Offer(2, Kind.FREE_ADDON, addon_plan=7, exclusive=False)
    result = choose([data, addon], buyer(), {}, [item()], {7: usd("3.00")})
    assert result.bonus == {"data": 5120} and result.addon_plans == (7,)
    assert result.discount == 0 and result.cost_of(2) == Decimal("3.00")


offers = st.builds(
    Offer,
    id=st.integers(1, 50),
    kind=st.sampled_from([Kind.PERCENT_OFF, Kind.AMOUNT_OFF, Kind.FIRST_ORDER, Kind.BONUS_ALLOWANCE]),
    priority=st.integers(0, 5),
    exclusive=st.booleans(),
    percent=st.decimals(min_value=0, max_value=100, places=3),
    amounts=st.fixed_dictionaries({"USD": st.decimals(min_value=0, max_value=500, places=2)}),
)
prices = st.decimals(min_value=0, max_value=1000, places=2)


@given(st.lists(offers, max_size=6, unique_by=lambda offer: offer.id), st.lists(prices, min_size=1, max_size=4))
def test_a_discount_stays_within_the_price_and_rounds_once_per_item(offer_list, item_prices):
    items = [Item(f"i{n}", usd(price)) for n, price in enumerate(item_prices)]
    result = choose(offer_list, buyer(first_order=True), {}, items, {})
    for entry in items:
        off = result.discounts[entry.key]
        assert Decimal(0) <= off.amount <= entry.amount.amount
        assert off.amount == off.amount.quantize(Decimal("0.01"))  # rounded once, to cents
    subtotal = sum(price for price in item_prices)
    assert Decimal(0) <= result.discount <= subtotal
    # The offers' shares add up exactly to the discount, and none is negative.
    assert sum(share.amount.amount for share in result.shares) == result.discount
    assert all(share.amount.amount >= 0 for share in result.shares)


@given(st.lists(offers, max_size=6, unique_by=lambda offer: offer.id), st.randoms())
def test_stacking_does_not_depend_on_the_order_offers_arrive_in(offer_list, rng):
    shuffled = list(offer_list)
    rng.shuffle(shuffled)
    first = choose(offer_list, buyer(first_order=True), {}, [item("33.33")], {})
    second = choose(shuffled, buyer(first_order=True), {}, [item("33.33")], {})
    assert first.offers == second.offers and first.discounts == second.discounts and first.shares == second.shares
    assert [offer.id for offer in stacking_order(shuffled)] == [offer.id for offer in stacking_order(offer_list)]


def test_free_periods_stop_at_the_prepaid_limit():
    three_for_two = Offer(1, Kind.EXTRA_PERIODS, buy=2, free=1)
    result = choose([three_for_two], buyer(periods=10, room=2), {}, [item("5.00", 10)], {})
    assert result.free_periods == 2 and result.cost_of(1) == Decimal("10.00")  # valued as granted


def test_a_data_bonus_does_not_apply_where_data_is_unlimited():
    # given the holiday offer of 10 GB and a plan with unlimited data
    holiday = Offer(1, Kind.BONUS_ALLOWANCE, bonus={"data": 10240}, exclusive=False)
    unlimited = buyer(unlimited=frozenset({"data", "voice", "sms"}))
    # then it is refused with its own reason, gives nothing, and leaves room for other offers
    assert check(holiday, unlimited, Uses()) == Refusal.NOTHING_TO_ADD
    result = choose([holiday, Offer(2, Kind.PERCENT_OFF, percent=Decimal(10), exclusive=False)], unlimited, {},
                    [item("35.00")], {})  # fmt: skip
    assert [offer.id for offer in result.offers] == [2] and result.refused == {1: Refusal.NOTHING_TO_ADD}
    assert result.bonus == {} and result.bonus_by_offer == {}
    # and on a plan with a data allowance it still gives its 10 GB
    assert check(holiday, buyer(), Uses()) is None
    assert choose([holiday], buyer(), {}, [item()], {}).bonus_by_offer == {1: {"data": 10240}}


def test_a_mixed_bonus_gives_only_what_the_plan_limits():
    mixed = Offer(1, Kind.BONUS_ALLOWANCE, bonus={"data": 1024, "voice": 100}, exclusive=False)
    result = choose([mixed], buyer(unlimited=frozenset({"data"})), {}, [item()], {})
    assert [offer.id for offer in result.offers] == [1]
    assert result.bonus == {"voice": 100} and result.bonus_by_offer == {1: {"voice": 100}}


@given(
    bonus=st.dictionaries(st.sampled_from(["data", "voice", "sms"]), st.integers(1, 10**6), min_size=1),
    unlimited=st.frozensets(st.sampled_from(["data", "voice", "sms"])),
)
def test_no_bonus_is_ever_given_on_an_unlimited_allowance(bonus, unlimited):
    offer = Offer(1, Kind.BONUS_ALLOWANCE, bonus=bonus, exclusive=False)
    result = choose([offer], buyer(unlimited=unlimited), {}, [item()], {})
    assert not set(result.bonus) & unlimited
    assert result.bonus == {kind: amount for kind, amount in bonus.items() if kind not in unlimited}
    assert (result.offers == (offer,)) == bool(set(bonus) - unlimited)
