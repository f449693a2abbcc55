"""Every lifecycle timer of domain.md, driven through time: grace, suspension, deactivation,
aging and release of the number to the pool; renewals restore the line until the reactivation
window closes; sweeps are idempotent and catch up after downtime."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from refill.catalog.models import Market
from refill.lines.models import Line, LineStatusChange, PoolNumber
from refill.lines.services import lines_lapse_sweep, number_assign
from refill.orders.errors import LineNotRenewable
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def line():
    market = make_market()
    Market.objects.filter(pk=market.pk).update(grace_days=7, suspend_days=60, reactivation_days=15, aging_days=60)
    plan = make_plan(market, "us-30day")
    customer, _ = make_customer("life@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    line.refresh_from_db()
    return line


def sweep_at(when) -> int:
    with time_machine.travel(when, tick=False):
        return lines_lapse_sweep()


def status(line) -> str:
    line.refresh_from_db()
    return line.status


@pytest.mark.parametrize(
    ("days_after_end", "expected"),
    [
        (-0.01, "active"),
        (0.01, "grace"),
        (6.99, "grace"),
        (7.01, "suspended"),
        (66.99, "suspended"),
        (67.01, "deactivated"),
        (81.99, "deactivated"),
        (82.01, "aging"),
        (141.99, "aging"),
        (142.01, "available"),
    ],
)
def test_each_timer(line, days_after_end, expected):
    at = line.period_end + timedelta(days=days_after_end)
    for _ in range(6):  # enough passes to catch up to any state
        sweep_at(at)
    assert status(line) == expected


def test_steps_are_recorded_once_with_their_causes(line):
    end = line.period_end
    for days in (1, 8, 68, 83, 143, 143, 200):
        sweep_at(end + timedelta(days=days))
    causes = list(LineStatusChange.objects.filter(line=line).values_list("to_status", "cause"))
    assert causes == [
        ("active", "renewal"),
        ("grace", "period_ended"),
        ("suspended", "grace_ended"),
        ("deactivated", "suspension_ended"),
        ("aging", "reactivation_window_ended"),
        ("available", "number_aged"),
    ]


def test_after_downtime_one_pass_catches_up_in_order_without_skipping(line):
    later = line.period_end + timedelta(days=400)
    assert [sweep_at(later) for _ in range(2)] == [5, 0]
    assert status(line) == "available"
    steps = LineStatusChange.objects.filter(line=line).order_by("pk").values_list("to_status", flat=True)
    assert list(steps) == ["active", "grace", "suspended", "deactivated", "aging", "available"]


def test_renewal_restores_a_lapsed_line_until_the_window_closes(line):
    end = line.period_end
    for days in (1, 8, 68):
        sweep_at(end + timedelta(days=days))
    assert status(line) == "deactivated"
    with time_machine.travel(end + timedelta(days=70), tick=False):
        renew(line, line.plan)
    assert status(line) == "active"
    end = line.period_end
    for days in (1, 8, 68, 83):
        sweep_at(end + timedelta(days=days))
    assert status(line) == "aging"
    with time_machine.travel(end + timedelta(days=84), tick=False), pytest.raises(LineNotRenewable):
        renew(line, line.plan)


def test_released_numbers_age_then_serve_a_new_line(line):
    end = line.period_end
    for days in (1, 8, 68, 83):
        sweep_at(end + timedelta(days=days))
    pool = PoolNumber.objects.get(msisdn=line.msisdn)
    assert pool.status == "aging" and number_assign(market=line.market) is None
    sweep_at(end + timedelta(days=143))
    assert PoolNumber.objects.get(msisdn=line.msisdn).status == "available"
    number = number_assign(market=line.market)
    assert number == line.msisdn and number_assign(market=line.market) is None
    newcomer, _ = make_customer("new@example.com")
    reused = make_line(newcomer, line.market, line.plan, msisdn=number)
    assert Line.objects.filter(msisdn=number).count() == 2 and reused.status == "pending"


def test_two_sweeps_at_once_move_each_line_once(line):
    market, plan = line.market, line.plan
    others = []
    for n in range(20):
        customer, _ = make_customer(f"c{n}@example.com")
        other = make_line(customer, market, plan, msisdn=f"+1202555{1000 + n:04d}")
        with time_machine.travel(T0, tick=False):
            renew(other, plan)
        others.append(other)
    later = line.period_end + timedelta(days=1)
    assert sweep_at(later) == 21 and sweep_at(later) == 0
    assert LineStatusChange.objects.filter(to_status="grace").count() == 21
