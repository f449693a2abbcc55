"""Each reminder rule through time (time-machine): expiry in 7/3/1 days or "will renew" with
auto-renew on, expired, grace ending, suspended, number release, usage thresholds; once per
(line, rule, period) however often the sweep runs; SMS quiet hours across time zones and DST."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from refill.lines.services import lines_lapse_sweep
from refill.notifications.models import Notification
from refill.notifications.reminders import reminders_sweep
from refill.notifications.services import notices_deliver
from refill.renewals.autorenew import autorenew_update
from refill.subscriptions.models import Bucket
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 2, 2, 17, 0, tzinfo=UTC)  # noon in New York


@pytest.fixture
def line():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, _ = make_customer("remind@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    line.refresh_from_db()
    return line


def sweep(at):
    with time_machine.travel(at, tick=False):
        lines_lapse_sweep()
        reminders_sweep()
        notices_deliver()


def rules(channel="email"):
    return list(Notification.objects.filter(channel=channel).order_by("pk").values_list("rule", flat=True))


def test_expiry_reminders_at_7_3_and_1_days_once_each(line, _sms_outbox):
    end = line.period_end
    for hours_before in (24 * 8, 24 * 7 - 1, 24 * 7 - 2, 24 * 3 - 1, 24 * 2, 23, 12):
        sweep(end - timedelta(hours=hours_before))
    assert rules() == ["expiry_7d", "expiry_3d", "expiry_1d"]
    assert rules("sms") == ["expiry_7d", "expiry_3d", "expiry_1d"]
    body = Notification.objects.get(rule="expiry_7d", channel="email").body
    assert "30-Day Plan" in body and "/lines/" in body and "renew" in body
    assert len(mail.outbox) == 3 and len(_sms_outbox) == 3


def test_a_late_sweep_sends_only_the_reminder_that_applies(line):
    sweep(line.period_end - timedelta(hours=30))
    assert rules() == ["expiry_3d"]


def test_with_auto_renew_on_the_customer_is_told_it_will_renew(line):
    autorenew_update(line=line, actor=None, enabled=True)
    for hours_before in (24 * 7 - 1, 24 * 3 - 1, 23):
        sweep(line.period_end - timedelta(hours=hours_before))
    assert rules() == ["autorenew_upcoming"]
    body = Notification.objects.get(rule="autorenew_upcoming", channel="email").body
    assert "will renew automatically" in body and "$25.00" in body


def test_expired_grace_ending_suspended_and_number_release(line):
    end = line.period_end
    for days in (0.1, 0.2, 6.5, 7.2, 30, 80, 81):
        sweep(end + timedelta(days=days))
    assert rules() == ["expired", "grace_ending", "suspended", "number_release"]
    release = Notification.objects.get(rule="number_release", channel="email")
    assert "cannot" in release.body or "no longer be renewed" in release.body


def test_usage_thresholds_once_each_highest_first(line):
    data = Bucket.objects.get(line=line, kind="data")
    for used_percent, at_hours in ((50, 1), (80, 2), (80, 3), (95, 4), (100, 5)):
        Bucket.objects.filter(pk=data.pk).update(used=data.granted * used_percent // 100)
        sweep(T0 + timedelta(hours=at_hours))
    assert rules() == ["usage_75", "usage_90", "usage_100"]
    assert "all of your Data" in Notification.objects.get(rule="usage_100", channel="email").body


def test_chinese_customer_gets_chinese_reminders(line):
    line.owner.preferred_language = "zh-hans"
    line.owner.save()
    sweep(line.period_end - timedelta(hours=20))
    email = Notification.objects.get(rule="expiry_1d", channel="email")
    assert email.language == "zh-hans" and "续费" in email.body
    assert mail.outbox[0].extra_headers["Content-Language"] == "zh-hans"


@pytest.mark.parametrize(
    ("zone", "fired_utc", "expected_utc"),
    [
        # 22:00 in Shanghai: held until 09:00 Shanghai (01:00 UTC next day).
        ("Asia/Shanghai", datetime(2026, 2, 26, 14, 0, tzinfo=UTC), datetime(2026, 2, 27, 1, 0, tzinfo=UTC)),
        # 07:00 in New York the morning clocks go forward: held until 09:00 EDT (13:00 UTC).
        ("America/New_York", datetime(2026, 3, 8, 11, 0, tzinfo=UTC), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        # 23:30 in New York the night clocks go back: held until 09:00 EST (14:00 UTC).
        ("America/New_York", datetime(2026, 11, 1, 3, 30, tzinfo=UTC), datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
        # 15:00 in London: no wait.
        ("Europe/London", datetime(2026, 2, 26, 15, 0, tzinfo=UTC), datetime(2026, 2, 26, 15, 0, tzinfo=UTC)),
    ],
)
def test_sms_quiet_hours_follow_the_customers_zone_across_dst(line, _sms_outbox, zone, fired_utc, expected_utc):
    from refill.notifications.services import notice

    line.owner.time_zone = zone
    line.owner.save()
    with time_machine.travel(fired_utc, tick=False):
        notice(rule="expired", subject_key="k", customer=line.owner, line=line, context={"grace_end": fired_utc})
    sms = Notification.objects.get(channel="sms")
    assert sms.send_after == expected_utc
    assert Notification.objects.get(channel="email").status == "sent"  # email is not held
    with time_machine.travel(expected_utc - timedelta(minutes=1), tick=False):
        notices_deliver()
    assert len(_sms_outbox) == (1 if expected_utc == fired_utc else 0)
    with time_machine.travel(expected_utc + timedelta(minutes=1), tick=False):
        notices_deliver()
    assert len(_sms_outbox) == 1


def test_customers_who_opted_out_get_nothing_on_that_channel(line, _sms_outbox):
    line.owner.notify_sms = False
    line.owner.save()
    sweep(line.period_end - timedelta(hours=20))
    assert rules() == ["expiry_1d"] and rules("sms") == [] and _sms_outbox == []


def test_small_buckets_are_measured_exactly(line):
    """60 % of a 5-unit bucket is under the first threshold, even where the database divides integers."""
    sms = Bucket.objects.get(line=line, kind="sms")
    Bucket.objects.filter(pk=sms.pk).update(granted=5, used=3)
    sweep(T0 + timedelta(hours=1))
    assert rules() == []
    Bucket.objects.filter(pk=sms.pk).update(used=4)
    sweep(T0 + timedelta(hours=2))
    assert rules() == ["usage_75"]
