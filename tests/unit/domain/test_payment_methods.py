"""The order of the ways to pay a checkout offers (refill.domain.payment_methods)."""

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refill.domain.payment_methods import (
    BASE_ORDER,
    FAMILIES,
    PayOption,
    market_order,
    pay_option_chosen,
    pay_options_ordered,
    preference_for,
    wallet_card_split,
)

# What a US customer with two saved cards (the default first) and some wallet money is offered.
OFFERED = ["wallet", "wallet_card", "card", "saved-7", "saved-3", "paypal", "apple_pay", "alipay", "wechat_pay"]


def keys(options):
    return [option.key for option in options]


def order(offered=OFFERED, *, last_used=None, preferred=(), unusable=()):
    options = [PayOption(key, usable=key not in unusable) for key in offered]
    return keys(pay_options_ordered(options, last_used=last_used, preferred=preferred))


def test_without_history_or_preference_refills_own_order_applies():
    assert order() == [
        "wallet", "saved-7", "saved-3", "wallet_card", "card", "apple_pay", "paypal", "alipay", "wechat_pay",
    ]  # fmt: skip


def test_the_last_used_way_comes_first():
    assert order(last_used="saved-3")[:3] == ["saved-3", "wallet", "saved-7"]
    assert order(last_used="alipay")[0] == "alipay"
    assert order(last_used="wallet_card")[:2] == ["wallet_card", "wallet"]


def test_a_last_used_way_no_longer_offered_changes_nothing():
    # A removed card, or a provider the gateway no longer offers.
    assert order(last_used="saved-99") == order()


def test_china_puts_alipay_and_wechat_pay_before_cards():
    preferred = preference_for(market="cn", language="en")
    result = order(preferred=preferred, unusable={"wallet"})
    assert result.index("alipay") < result.index("wechat_pay") < result.index("saved-7") < result.index("card")


def test_a_chinese_speaker_elsewhere_gets_the_same_preference():
    assert preference_for(market="us", language="zh-hans") == ["wallet", "alipay", "wechat_pay"]
    assert preference_for(market="us", language="en") == []
    result = order(preferred=preference_for(market="us", language="zh-Hans"))
    assert result[:3] == ["wallet", "alipay", "wechat_pay"]


def test_the_last_used_way_beats_the_markets_preference():
    result = order(last_used="saved-3", preferred=preference_for(market="cn", language="zh-hans"))
    assert result[:4] == ["saved-3", "wallet", "alipay", "wechat_pay"]


def test_the_markets_list_is_an_input_an_operator_can_set():
    # A later issue lets operators set each market's order: the rule takes any list of families.
    preferred = preference_for(
        market="hk", language="en", market_preferences={"hk": ["apple_pay", "card"]}, language_preferences={}
    )
    assert preferred == ["apple_pay", "card"]
    assert order(preferred=preferred)[:3] == ["apple_pay", "card", "wallet"]


def test_a_way_that_cannot_be_used_goes_after_every_usable_one():
    result = order(unusable={"wallet", "saved-7"})
    assert result[-2:] == ["wallet", "saved-7"]
    # even when it was the last used
    assert order(last_used="wallet", unusable={"wallet"})[-1] == "wallet"


def test_the_chosen_way_is_the_one_asked_for_when_usable_else_the_first_usable():
    options = pay_options_ordered(
        [PayOption("wallet", usable=False), PayOption("saved-3"), PayOption("card")], last_used="wallet"
    )
    assert pay_option_chosen(options) == "saved-3"
    assert pay_option_chosen(options, "card") == "card"
    assert pay_option_chosen(options, "wallet") == "saved-3"  # it cannot pay this total
    assert pay_option_chosen(options, "saved-999") == "saved-3"  # not this customer's
    assert pay_option_chosen([PayOption("wallet", usable=False)]) is None


@given(st.permutations(OFFERED), st.sampled_from([None, *OFFERED]), st.sets(st.sampled_from(OFFERED)))
def test_ordering_is_a_permutation_with_usable_first(offered, last_used, unusable):
    result = order(list(offered), last_used=last_used, unusable=unusable)
    assert sorted(result) == sorted(offered)
    usable = [key for key in result if key not in unusable]
    assert result[: len(usable)] == usable
    if last_used and last_used not in unusable:
        assert result[0] == last_used


def test_an_unknown_family_comes_after_the_known_ones():
    offered = ["venmo", "card", "wallet"]
    random.Random(4).shuffle(offered)
    assert order(offered) == ["wallet", "card", "venmo"]
    assert set(BASE_ORDER) >= {"wallet", "wallet_card", "card", "saved", "alipay", "wechat_pay"}


@pytest.mark.parametrize(
    ("balance", "total", "currency", "wallet", "card"),
    [
        ("15.00", "25.00", "USD", "15.00", "10.00"),
        ("25.00", "25.00", "USD", "24.99", "0.01"),  # the card pays at least one minor unit
        ("0", "25.00", "USD", "0", "25.00"),
        ("500", "880", "JPY", "500", "380"),
        ("880", "880", "JPY", "879", "1"),
    ],
)
def test_wallet_first_the_rest_by_card(balance, total, currency, wallet, card):
    split = wallet_card_split(Decimal(balance), Decimal(total), currency)
    assert (split.wallet, split.card) == (Decimal(wallet), Decimal(card))


@given(
    st.decimals(min_value=0, max_value=10_000, places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=10_000, places=2),
)
def test_the_split_adds_up_and_never_goes_negative(balance, total):
    split = wallet_card_split(balance, total, "USD")
    assert split.wallet + split.card == total
    assert split.wallet >= 0 and split.card >= Decimal("0.01") and split.wallet <= balance


# Issue 28: the operator's setting per market (the families switched on, in their order).


def test_a_family_the_market_switched_off_is_not_offered_at_all():
    on = ["card", "saved", "apple_pay", "paypal"]
    options = [PayOption(key) for key in OFFERED]
    result = keys(pay_options_ordered(options, preferred=market_order("us", on), offered=on))
    assert result == ["card", "saved-7", "saved-3", "apple_pay", "paypal"]
    # not even as the way the customer paid last
    last = keys(pay_options_ordered(options, last_used="alipay", preferred=on, offered=on))
    assert "alipay" not in last and last[0] == "card"


def test_the_markets_order_replaces_the_defaults_and_the_language():
    on = ["wechat_pay", "card", "wallet", "alipay"]
    preferred = preference_for(market="cn", language="zh-hans", market_preferences={"cn": market_order("cn", on)})
    result = keys(pay_options_ordered([PayOption(key) for key in OFFERED], preferred=preferred, offered=on))
    assert result == ["wechat_pay", "card", "wallet", "alipay"]


def test_a_market_without_a_setting_keeps_the_defaults_every_family_on():
    assert market_order("cn") == [
        "wallet", "alipay", "wechat_pay", "saved", "wallet_card", "card", "apple_pay", "paypal", "pin",
    ]  # fmt: skip
    assert market_order("us") == list(FAMILIES) == list(BASE_ORDER)
    # an unknown family in a stored setting is dropped, repeats kept once
    assert market_order("us", ["paypal", "bitcoin", "paypal", "card"]) == ["paypal", "card"]


def test_the_refill_pin_comes_after_every_payment_unless_the_market_says_otherwise():
    guest = [PayOption(key) for key in ("card", "paypal", "alipay", "pin")]
    assert keys(pay_options_ordered(guest))[-1] == "pin"
    on = ["pin", "alipay", "card"]
    assert keys(pay_options_ordered(guest, preferred=on, offered=on)) == ["pin", "alipay", "card"]
