"""The line card speaks of the period running now: its plan, its own end and its buckets; a plan
bought to start later is named as what comes next, with its dates (issue 23, item 4)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from refill.formatting import day_text
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db

GB = 1024
T0 = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # noon in New York


@pytest.fixture
def queued():
    market = make_market()
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    monthly = make_plan(market, "us-month", price="35.00", validity_kind="months", validity_count=1, data_mb=None,
                        voice_minutes=None, sms=None, name_en="Monthly Unlimited", name_zh_hans="包月无限")  # fmt: skip
    customer, user = make_customer("queued@example.com")
    line = make_line(customer, market, thirty, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, thirty)
        renew(line, monthly)
    return line, user, thirty, monthly


def _card(user, language="en") -> str:
    client = Client()
    login(client, user)
    client.post(reverse("portal:set_language"), {"language": language})
    return client.get(reverse("portal:home")).content.decode()


def _text(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(dd|p|span)>', page, re.S)
    assert found, f"no {testid} on the card"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _day(value, zone="America/New_York", language="en", now=T0 + timedelta(days=7)) -> str:
    """A day as the card shows it on the day ``now`` (issue 26: "26 Dec", "1月26日")."""
    with translation.override(language), timezone.override(zone):
        return day_text(value, now=now)


def test_the_card_shows_the_running_period_and_names_the_queued_plan(queued):
    line, user, thirty, monthly = queued
    current, following = Period.objects.filter(line=line).order_by("start")
    assert (current.plan, following.plan) == (thirty, monthly) and following.start == current.end
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        page = _card(user)
    running_end = _day(current.end)
    # given the 30-day period ends Dec 26 and Monthly Unlimited follows it until Jan 26
    assert _text(page, "plan") == "30-Day Plan"
    assert _text(page, "period-end") == running_end
    assert _text(page, "days-left") == "23 days"
    data = re.search(r'data-testid="allowance-data".*?</progress>', page, re.S).group(0)
    assert "20 GB" in data and "Unlimited" not in data
    # then what comes next is named with its own dates
    assert _text(page, "next-plan") == f"Next: Monthly Unlimited, {_day(following.start)} – {_day(following.end)}"
    assert _day(following.start) == "26 Dec" and _day(following.end) == "26 Jan"


def test_several_queued_periods_name_the_next_plan_and_the_last_paid_through_date(queued):
    line, user, thirty, monthly = queued
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        renew(line, monthly, periods=2)
        page = _card(user)
    following = Period.objects.filter(line=line).order_by("start")[1]
    line.refresh_from_db()
    assert _text(page, "next-plan") == (
        f"Next: Monthly Unlimited, {_day(following.start)} – {_day(line.period_end)} (3 periods paid ahead)"
    )
    assert _day(line.period_end) == "26 Mar"


def test_in_chinese_and_without_a_queued_plan(queued):
    line, user, thirty, monthly = queued
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        page = _card(user, "zh-hans")
    following = Period.objects.filter(line=line).order_by("start")[1]
    assert '<html lang="zh-Hans">' in page
    start, end = _day(following.start, language="zh-hans"), _day(following.end, language="zh-hans")
    assert _text(page, "next-plan") == f"接下来：包月无限，{start} – {end}"
    # A line with nothing queued shows no "next" line at all.
    other_customer, other_user = make_customer("single@example.com")
    single = make_line(other_customer, line.market, thirty, msisdn="+12025550144")
    with time_machine.travel(T0, tick=False):
        renew(single, thirty)
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        page = _card(other_user)
    assert 'data-testid="next-plan"' not in page


def test_a_kept_number_with_a_plan_bought_to_follow_says_so(queued):
    from refill.lines.services import lines_lapse_sweep

    line, user, thirty, monthly = queued
    keep = make_plan(line.market, "us-keep", kind="retention", price="2.00", data_mb=0, voice_minutes=0, sms=0,
                     name_en="Keep my number")  # fmt: skip
    other_customer, other_user = make_customer("kept@example.com")
    kept = make_line(other_customer, line.market, thirty, msisdn="+12025550145")
    with time_machine.travel(T0, tick=False):
        renew(kept, thirty)
        renew(kept, keep)  # the number is kept for a month after this one
        renew(kept, thirty)  # and the 30-day plan bought to follow that
    keeping, following = Period.objects.filter(line=kept).order_by("start")[1:]
    with time_machine.travel(keeping.start + timedelta(days=5), tick=False):
        lines_lapse_sweep()
        kept.refresh_from_db()
        page = _card(other_user)
    assert kept.status == "retained"
    kept_until = _day(keeping.end, now=keeping.start + timedelta(days=5))
    # the number is kept until the keep-my-number period ends; then the 30-day plan runs
    assert _text(page, "plan") == "Keep my number"
    assert _text(page, "period-end") == kept_until and kept_until in _text(page, "status-guidance")
    seen_on = keeping.start + timedelta(days=5)
    assert _text(page, "next-plan") == (
        f"Next: 30-Day Plan, {_day(following.start, now=seen_on)} – {_day(following.end, now=seen_on)}"
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_queued_periods_of_different_plans_are_all_named_in_order(queued, language):
    line, user, thirty, monthly = queued
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        renew(line, thirty, periods=2)
        page = _card(user, language)
    following = Period.objects.filter(line=line).order_by("start")[1]
    line.refresh_from_db()
    start, end = _day(following.start, language=language), _day(line.period_end, language=language)
    # Monthly Unlimited, then two 30-Day Plans: the card no longer names only the first.
    expected = {
        "en": f"Next: 3 periods paid ahead, {start} – {end}: Monthly Unlimited → 30-Day Plan × 2",
        "zh-hans": f"接下来：已预付 3 个周期，{start} – {end}：包月无限 → 30天套餐 × 2",
    }
    assert _text(page, "next-plan") == expected[language]
