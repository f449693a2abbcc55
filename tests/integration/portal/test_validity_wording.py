"""One label, one meaning (new user on a phone, Dec 2026): "Valid until" is the end of the period
running now on every page; periods paid ahead are said separately ("Paid ahead until"); an
add-on cut by the period's end says until when it runs; "Days left" rounds up, and says "less
than a day" for the last hours."""

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
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db

GB = 1024
T0 = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
SEEN = T0 + timedelta(days=7)


@pytest.fixture
def queued():
    market = make_market()
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
              name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
    customer, user = make_customer("valid@example.com")
    line = make_line(customer, market, thirty, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, thirty)
        renew(line, thirty, periods=2)
    return line, user


def _page(user, url, language="en") -> str:
    client = Client()
    login(client, user)
    client.post(reverse("portal:set_language"), {"language": language})
    return client.get(url).content.decode()


def _text(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(dd|p|span)>', page, re.S)
    assert found, f"no {testid} on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _day(value, language="en") -> str:
    with translation.override(language), timezone.override("America/New_York"):
        return day_text(value, now=SEEN)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_valid_until_is_the_running_period_on_every_page_and_paid_ahead_is_said_apart(queued, language):
    line, user = queued
    current, *_, last = Period.objects.filter(line=line).order_by("start")
    running_end, paid_end = _day(current.end, language), _day(last.end, language)
    assert running_end != paid_end
    with time_machine.travel(SEEN, tick=False):
        home = _page(user, reverse("portal:home"), language)
        renew_page = _page(user, reverse("portal:renew", args=[line.pk]), language)
        addons = _page(user, reverse("portal:addons", args=[line.pk]), language)
    assert _text(home, "period-end") == running_end
    for page in (renew_page, addons):
        assert _text(page, "valid-until") == running_end
        assert _text(page, "paid-ahead") == paid_end
    label = {"en": "Paid ahead until", "zh-hans": "已预付至"}[language]
    assert f"{label} {paid_end}" in visible_text(renew_page)
    assert f"{label} {paid_end}" in visible_text(addons)


def test_nothing_paid_ahead_says_nothing_about_it():
    market = make_market()
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer("single@example.com")
    line = make_line(customer, market, thirty, msisdn="+12025550144")
    with time_machine.travel(T0, tick=False):
        renew(line, thirty)
    with time_machine.travel(SEEN, tick=False):
        page = _page(user, reverse("portal:renew", args=[line.pk]))
    assert _text(page, "valid-until") == _day(line.period_end)
    assert 'data-testid="paid-ahead"' not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "until {day} · 5 GB"), ("zh-hans", "有效期至 {day} · 5 GB")],
)
def test_an_addon_cut_by_the_period_end_says_until_when_it_runs(language, expected):
    market = make_market()
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
              validity_kind="days", validity_count=30, name_en="5 GB Data Booster",
              name_zh_hans="5GB 流量加油包")  # fmt: skip
    make_plan(market, "us-data-1d", kind="addon", price="2.00", data_mb=GB, voice_minutes=0, sms=0,
              validity_kind="days", validity_count=1, name_en="1 GB Day Pass", name_zh_hans="1GB 日包")  # fmt: skip
    customer, user = make_customer("addon@example.com")
    line = make_line(customer, market, thirty, msisdn="+12025550145")
    with time_machine.travel(T0, tick=False):
        renew(line, thirty)
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        page = _page(user, reverse("portal:addons", args=[line.pk]), language)
    options = dict(
        re.findall(r'data-testid="addon-([a-z0-9-]+)".*?class="plan-detail muted"[^>]*>(.*?)</span>', page, re.S)
    )
    cut = re.sub(r"\s+", " ", options["us-data-5gb"]).strip()
    with translation.override(language), timezone.override("America/New_York"):
        period_end = day_text(line.period_end, now=T0 + timedelta(days=10))
    # 20 days are left of the period: the 30-day pass runs until the period ends, and says so
    assert cut == expected.format(day=period_end)
    # a one-day pass is not cut: its own length is the truth
    whole = re.sub(r"\s+", " ", options["us-data-1d"]).strip()
    assert whole.startswith({"en": "1 day", "zh-hans": "1 天"}[language])


@pytest.mark.parametrize(
    ("left", "en", "zh"),
    [
        (timedelta(days=1, hours=23, minutes=58), "2 days", "2 天"),  # Mon 08:14 → Wed 08:12
        (timedelta(days=1), "1 day", "1 天"),
        (timedelta(days=1, seconds=1), "2 days", "2 天"),
        (timedelta(hours=23, minutes=59), "less than a day", "不到 1 天"),
        (timedelta(minutes=1), "less than a day", "不到 1 天"),
    ],
)
def test_days_left_rounds_up_and_says_less_than_a_day_for_the_last_hours(left, en, zh):
    market = make_market()
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer("days@example.com")
    line = make_line(customer, market, thirty, msisdn="+12025550146")
    with time_machine.travel(T0, tick=False):
        renew(line, thirty)
    line.refresh_from_db()
    with time_machine.travel(line.period_end - left, tick=False):
        assert _text(_page(user, reverse("portal:home")), "days-left") == en
        assert _text(_page(user, reverse("portal:home"), "zh-hans"), "days-left") == zh
