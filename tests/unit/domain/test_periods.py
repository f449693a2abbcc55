from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refill.domain.periods import Validity, ValidityKind, add_months, period_end, plan_periods, renewal_start

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")


def local(year, month, day, hour=0, minute=0, zone=NY):
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def test_month_end_clamps_and_never_drifts():
    # given a line first renewed on Jan 31 (New York midnight)
    start = local(2027, 1, 31)
    # when three calendar months are bought at once
    spans = plan_periods(
        current_end=None, now=start, lapsed=True, validity=Validity(ValidityKind.MONTHS, 1), count=3, zone=NY
    )
    # then the ends keep the 31st where the month has one
    ends = [span.end.astimezone(NY).date().isoformat() for span in spans]
    assert ends == ["2027-02-28", "2027-03-31", "2027-04-30"]


def test_leap_year_february():
    start = local(2028, 1, 31)
    assert add_months(start, 1, NY).astimezone(NY).date().isoformat() == "2028-02-29"


def test_stacked_month_renewal_keeps_anchor_day():
    # A line anchored on the 31st whose period ended on Feb 28 renews for one more month.
    current_end = local(2027, 2, 28)
    spans = plan_periods(
        current_end=current_end,
        now=local(2027, 2, 20),
        lapsed=False,
        validity=Validity(ValidityKind.MONTHS, 1),
        count=1,
        zone=NY,
        anchor_day=31,
    )
    assert spans[0].start == current_end
    assert spans[0].end.astimezone(NY).date().isoformat() == "2027-03-31"


def test_day_plan_keeps_wall_clock_across_dst():
    # Bought at 10:00 the day before the US spring-forward change: ends 10:00 local next day (23 h later).
    start = local(2027, 3, 13, 10)
    end = period_end(start, Validity(ValidityKind.DAYS, 1), NY)
    assert end.astimezone(NY).hour == 10
    assert end - start == timedelta(hours=23)


def test_year_plan_from_feb_29():
    start = local(2028, 2, 29)
    end = period_end(start, Validity(ValidityKind.YEARS, 1), NY, anchor_day=29)
    assert end.astimezone(NY).date().isoformat() == "2029-02-28"


def test_early_renewal_stacks_and_lapsed_renewal_starts_now():
    now = local(2027, 5, 1, 12)
    later = now + timedelta(days=3)
    assert renewal_start(current_end=later, now=now, lapsed=False) == later
    assert renewal_start(current_end=now - timedelta(days=2), now=now, lapsed=True) == now
    assert renewal_start(current_end=None, now=now, lapsed=False) == now


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        period_end(datetime(2027, 1, 1), Validity(ValidityKind.DAYS, 1), NY)


validities = st.builds(
    Validity,
    st.sampled_from(list(ValidityKind)),
    st.integers(min_value=1, max_value=3),
)
zones = st.sampled_from([NY, SH, ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")])


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)),
    steps=st.lists(
        st.tuples(validities, st.integers(min_value=1, max_value=4), st.integers(min_value=0, max_value=90 * 24)),
        min_size=1,
        max_size=8,
    ),
    zone=zones,
)
def test_any_sequence_of_renewals_is_contiguous_or_restarts_now(start, steps, zone):
    """For any sequence of renewals at any times: periods never overlap, follow each other with no
    gap while prepaid, start at "now" after a lapse, and the period end only moves forward."""
    now = start
    periods = []
    current_end = None
    for validity, count, hours_later in steps:
        now = now + timedelta(hours=hours_later)
        lapsed = current_end is None or current_end <= now
        spans = plan_periods(current_end=current_end, now=now, lapsed=lapsed, validity=validity, count=count, zone=zone)
        assert len(spans) == count
        if lapsed:
            assert spans[0].start == now
        else:
            assert spans[0].start == current_end
        for previous, following in zip(spans, spans[1:], strict=False):
            assert previous.end == following.start
        for span in spans:
            assert span.end > span.start
        if periods:
            assert spans[0].start >= periods[-1].end
        periods.extend(spans)
        new_end = spans[-1].end
        assert current_end is None or new_end > current_end
        current_end = new_end
    for previous, following in zip(periods, periods[1:], strict=False):
        assert previous.end <= following.start


@settings(max_examples=300, deadline=None)
@given(
    year=st.integers(min_value=2024, max_value=2040),
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=31),
    count=st.integers(min_value=1, max_value=24),
    zone=zones,
)
def test_month_ends_land_on_anchor_or_last_day(year, month, day, count, zone):
    import calendar

    day = min(day, calendar.monthrange(year, month)[1])
    start = datetime(year, month, day, 0, 0, tzinfo=zone).astimezone(UTC)
    spans = plan_periods(
        current_end=None, now=start, lapsed=True, validity=Validity(ValidityKind.MONTHS, 1), count=count, zone=zone
    )
    for span in spans:
        end_local = span.end.astimezone(zone)
        last = calendar.monthrange(end_local.year, end_local.month)[1]
        assert end_local.day == min(day, last)
