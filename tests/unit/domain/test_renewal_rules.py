"""The renewal rules the checkout applies, as pure functions (issue 27): the prepaid-period limit,
roll-over, the line's status after a renewal and the revenue split."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from refill.domain.allowances import Rollover, rolled_over_until
from refill.domain.lifecycle import LineStatus, status_after_renewal
from refill.domain.money import MINOR_UNITS, allocate, quantize
from refill.domain.periods import prepaid_fits, prepaid_room

START = datetime(2027, 3, 1, tzinfo=UTC)

counts = st.integers(min_value=0, max_value=40)
limits = st.integers(min_value=1, max_value=24)


def test_prepaid_room_counts_what_runs_now_or_later():
    # a 12-period plan with 3 periods paid ahead leaves room for 9 more
    assert prepaid_room(limit=12, ahead=3, lapsed=False) == 9
    # a lapsed line restarts now: what it had does not count
    assert prepaid_room(limit=12, ahead=3, lapsed=True) == 12
    # a limit lowered below what was paid ahead leaves no room, never a negative one
    assert prepaid_room(limit=2, ahead=5, lapsed=False) == 0
    # periods other orders are being paid for count, also on a lapsed line (they stack on the restart)
    assert prepaid_room(limit=12, ahead=3, lapsed=False, in_flight=2) == 7
    assert prepaid_room(limit=12, ahead=3, lapsed=True, in_flight=2) == 10


def test_free_periods_count_against_the_room():
    assert prepaid_fits(periods=9, room=9)
    assert not prepaid_fits(periods=9, free=1, room=9)
    assert prepaid_fits(periods=8, free=1, room=9)
    # at least one period is bought
    assert not prepaid_fits(periods=0, room=9)


@given(limit=limits, ahead=counts, more=counts, lapsed=st.booleans(), in_flight=counts)
def test_prepaid_room_is_monotone(limit, ahead, more, lapsed, in_flight):
    # more periods paid ahead or being paid for never give more room; a higher limit never gives less
    assert prepaid_room(limit=limit, ahead=ahead, lapsed=lapsed, in_flight=in_flight + more) <= prepaid_room(
        limit=limit, ahead=ahead, lapsed=lapsed, in_flight=in_flight
    )
    assert prepaid_room(limit=limit, ahead=ahead + more, lapsed=lapsed) <= prepaid_room(
        limit=limit, ahead=ahead, lapsed=lapsed
    )
    assert prepaid_room(limit=limit + more, ahead=ahead, lapsed=lapsed) >= prepaid_room(
        limit=limit, ahead=ahead, lapsed=lapsed
    )


@given(limit=limits, ahead=counts, periods=counts, free=counts)
def test_what_fits_never_takes_a_line_past_its_limit(limit, ahead, periods, free):
    room = prepaid_room(limit=limit, ahead=ahead, lapsed=False)
    if prepaid_fits(periods=periods, free=free, room=room):
        assert ahead + periods + free <= limit
    else:
        assert periods < 1 or ahead + periods + free > limit


def test_rollover_once_extends_to_the_next_period_end():
    end, next_end = START + timedelta(days=30), START + timedelta(days=60)
    assert (
        rolled_over_until(rule=Rollover.ONCE, rolled_over=False, expires_at=end, next_start=end, next_end=next_end)
        == next_end
    )
    # the default rule: unused allowance expires with its period
    assert (
        rolled_over_until(rule=Rollover.EXPIRE, rolled_over=False, expires_at=end, next_start=end, next_end=next_end)
        is None
    )
    # only once
    assert (
        rolled_over_until(rule=Rollover.ONCE, rolled_over=True, expires_at=end, next_start=end, next_end=next_end)
        is None
    )
    # only into the period that follows it
    assert (
        rolled_over_until(
            rule=Rollover.ONCE,
            rolled_over=False,
            expires_at=end,
            next_start=next_end,
            next_end=next_end + (next_end - end),
        )
        is None
    )


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=15), rule=st.sampled_from(Rollover)
)
def test_rollover_never_outlives_one_more_period(lengths, rule):
    # a bucket of the first period, through a run of contiguous periods granted one by one
    ends = [START]
    for days in lengths:
        ends.append(ends[-1] + timedelta(days=days))
    expires_at, rolled = ends[1], False
    for start, end in zip(ends[1:], ends[2:], strict=False):
        new = rolled_over_until(rule=rule, rolled_over=rolled, expires_at=expires_at, next_start=start, next_end=end)
        if new is not None:
            assert new > expires_at  # expiry only moves forward
            expires_at, rolled = new, True
    assert expires_at <= (ends[2] if rule == Rollover.ONCE and len(ends) > 2 else ends[1])


def test_status_after_renewal():
    assert status_after_renewal(keeps_number_only=True) == LineStatus.RETAINED
    assert status_after_renewal(keeps_number_only=False) == LineStatus.ACTIVE


def test_allocate_rounds_the_running_sum():
    # one or two items: round the first share, the last takes the rest
    assert allocate(Decimal("9.99"), [Decimal("5.00"), Decimal("10.00")], "USD") == [Decimal("3.33"), Decimal("6.66")]
    # 10.00 across three equal items: 3.33, then 6.67 so far, then the rest
    assert allocate(Decimal("10.00"), [Decimal(1)] * 3, "USD") == [Decimal("3.33"), Decimal("3.34"), Decimal("3.33")]
    assert allocate(Decimal("100"), [Decimal(1)] * 3, "JPY") == [Decimal(33), Decimal(34), Decimal(33)]
    # rounding each share up would leave the last one negative (0.06 of 0.05 already given)
    shares = allocate(Decimal("0.05"), [Decimal(1)] * 7, "USD")
    assert sum(shares) == Decimal("0.05") and min(shares) == 0 and max(shares) == Decimal("0.01")
    assert allocate(Decimal("5.00"), [Decimal(0), Decimal(0)], "USD") == [Decimal(0), Decimal("5.00")]
    assert allocate(Decimal("5.00"), [], "USD") == []


@given(
    currency=st.sampled_from(sorted(MINOR_UNITS)),
    total_minor=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
)
def test_allocate_sums_to_the_total_to_the_minor_unit(currency, total_minor, weights):
    total = Decimal(total_minor).scaleb(-MINOR_UNITS[currency])
    shares = allocate(total, [Decimal(w).scaleb(-2) for w in weights], currency)
    assert len(shares) == len(weights)
    assert sum(shares, Decimal(0)) == total
    # every share is in whole minor units, none negative
    assert all(share == quantize(share, currency) and share >= 0 for share in shares)
