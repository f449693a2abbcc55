"""Each market's own expiry reminder days and SMS quiet hours: the sweep owes a line the reminders
of its market (the smallest window that applies wins), and an SMS about a line waits out its
market's quiet hours; a notice about no line keeps the install's."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from refill.notifications.models import Notification
from refill.notifications.reminders import reminders_sweep
from refill.notifications.services import notice
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 2, 2, 17, 0, tzinfo=UTC)  # noon in New York


def renewed_line(market, email, msisdn):
    plan = make_plan(market, f"{market.code}-30day", price="25.00")
    customer, _ = make_customer(email)
    line = make_line(customer, market, plan, msisdn=msisdn)
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    line.refresh_from_db()
    return line


@pytest.fixture
def wide():
    """A market that reminds 10 and 2 days ahead."""
    market = make_market("wide", name="Wide", reminder_days=[10, 2])
    return renewed_line(market, "wide@example.com", "+12025550171")


@pytest.fixture
def usual():
    """A market with the default reminder days (7, 3, 1); its lines end with the wide market's."""
    return renewed_line(make_market(), "usual@example.com", "+12025550172")


def sweep(at):
    with time_machine.travel(at, tick=False):
        reminders_sweep()


def rules(line):
    return list(Notification.objects.filter(line=line, channel="email").order_by("pk").values_list("rule", flat=True))


def test_each_line_gets_its_markets_reminder_days(wide, usual):
    # given two lines ending at the same instant in markets with different reminder days
    assert wide.period_end == usual.period_end
    end = wide.period_end
    # when the sweep runs every few hours through the last eleven days
    for hours_before in (24 * 11, 24 * 10 - 1, 24 * 8, 24 * 7 - 1, 24 * 5, 24 * 3 - 1, 24 * 2 - 1, 23, 2):
        sweep(end - timedelta(hours=hours_before))
    # then each got its own market's reminders, once each
    assert rules(wide) == ["expiry_10d", "expiry_2d"]
    assert rules(usual) == ["expiry_7d", "expiry_3d", "expiry_1d"]
    body = Notification.objects.get(line=wide, rule="expiry_10d", channel="email").subject
    assert "10 days" in body


def test_a_late_sweep_sends_the_smallest_window_that_applies(wide):
    sweep(wide.period_end - timedelta(hours=30))
    assert rules(wide) == ["expiry_2d"]


def test_a_line_beyond_its_markets_widest_window_is_not_reminded(wide, usual):
    # nine days out: inside the wide market's window, beyond the usual one's
    sweep(usual.period_end - timedelta(days=9))
    assert rules(usual) == [] and rules(wide) == ["expiry_10d"]


def test_a_changed_reminder_day_applies_at_the_next_sweep(usual):
    market = usual.market
    market.reminder_days = [14]
    market.save()
    sweep(usual.period_end - timedelta(days=13))
    assert rules(usual) == ["expiry_14d"]


def sms_send_after(line, fired_utc, key="k"):
    with time_machine.travel(fired_utc, tick=False):
        notice(rule="expired", subject_key=key, customer=line.owner, line=line, context={"grace_end": fired_utc})
    return Notification.objects.get(channel="sms", subject_key=key).send_after


def test_sms_wait_out_the_lines_markets_quiet_hours(usual):
    market = usual.market
    market.quiet_start_hour, market.quiet_end_hour = 23, 7
    market.save()
    # 22:00 in New York: quiet for the install's default hours (21–9), not for this market's
    assert sms_send_after(usual, datetime(2026, 2, 27, 3, 0, tzinfo=UTC), "a") == datetime(
        2026, 2, 27, 3, 0, tzinfo=UTC
    )
    # 23:30 in New York: held until 07:00 New York (12:00 UTC)
    assert sms_send_after(usual, datetime(2026, 2, 27, 4, 30, tzinfo=UTC), "b") == datetime(
        2026, 2, 27, 12, 0, tzinfo=UTC
    )


def test_equal_quiet_hours_mean_no_quiet_hours(usual):
    market = usual.market
    market.quiet_start_hour = market.quiet_end_hour = 0
    market.save()
    fired = datetime(2026, 2, 27, 7, 0, tzinfo=UTC)  # 02:00 in New York
    assert sms_send_after(usual, fired) == fired


def test_a_notice_about_no_line_keeps_the_install_quiet_hours(usual, settings):
    usual.market.quiet_start_hour, usual.market.quiet_end_hour = 0, 0
    usual.market.save()
    settings.REFILL_SMS_QUIET_HOURS = (20, 8)
    customer = usual.owner
    customer.users.update(phone="+12025550173")
    fired = datetime(2026, 2, 27, 2, 0, tzinfo=UTC)  # 21:00 in New York
    with time_machine.travel(fired, tick=False):
        notice(rule="card_expiring", subject_key="card", customer=customer, context={"method": None, "last_day": None})
    sms = Notification.objects.get(channel="sms", subject_key="card")
    assert sms.line is None
    assert sms.send_after == datetime(2026, 2, 27, 13, 0, tzinfo=UTC)  # 08:00 in New York
