"""Dates as people read them (issue 26): a day and month for what is valid, ends or renews; a time
with the zone named as people say it; the year only where a day and month could be misread."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone, translation

from refill.formatting import PhoneNumberText, clock_text, day_text, iccid_html, moment_text, zone_text

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # Monday 7 December 2026, noon in New York


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _in(language: str, zone: str, function, *args, **kwargs) -> str:
    with translation.override(language), timezone.override(zone):
        return function(*args, **kwargs)


@pytest.mark.parametrize(
    ("moment", "english", "chinese"),
    [
        # next month, next year: no year (less than six months away)
        (datetime(2027, 1, 12, 20, 5, tzinfo=UTC), "12 Jan", "1月12日"),
        # in the coming week: the weekday too
        (datetime(2026, 12, 8, 20, 5, tzinfo=UTC), "Tue 8 Dec", "12月8日（周二）"),
        (datetime(2026, 12, 14, 20, 5, tzinfo=UTC), "Mon 14 Dec", "12月14日（周一）"),
        # today (it is "today", not a weekday to plan by) and more than a week ahead: no weekday
        (datetime(2026, 12, 7, 20, 5, tzinfo=UTC), "7 Dec", "12月7日"),
        (datetime(2026, 12, 15, 20, 5, tzinfo=UTC), "15 Dec", "12月15日"),
        # a yearly plan's end: the year, though it is only next year
        (datetime(2027, 12, 7, 20, 5, tzinfo=UTC), "7 Dec 2027", "2027年12月7日"),
        # an order from May: the year, though it is this year (seven months ago)
        (datetime(2026, 5, 3, 20, 5, tzinfo=UTC), "3 May 2026", "2026年5月3日"),
        # last month: no year
        (datetime(2026, 11, 3, 20, 5, tzinfo=UTC), "3 Nov", "11月3日"),
    ],
)
def test_a_day_shows_day_and_month_and_the_year_only_when_it_could_be_misread(frozen, moment, english, chinese):
    assert _in("en", "America/New_York", day_text, moment) == english
    assert _in("zh-hans", "America/New_York", day_text, moment) == chinese


def test_a_day_is_the_day_in_the_customers_zone(frozen):
    # 03:30 UTC on 13 January is still the evening of the 12th in New York, already the 13th in Beijing
    moment = datetime(2027, 1, 13, 3, 30, tzinfo=UTC)
    assert _in("en", "America/New_York", day_text, moment) == "12 Jan"
    assert _in("zh-hans", "Asia/Shanghai", day_text, moment) == "1月13日"


def test_the_year_can_be_asked_for_and_a_date_is_a_day(frozen):
    assert _in("en", "UTC", day_text, date(2027, 1, 12), year=True) == "12 Jan 2027"
    assert _in("zh-hans", "UTC", day_text, date(2030, 3, 31)) == "2030年3月31日"
    assert _in("en", "UTC", day_text, None) == ""


@pytest.mark.parametrize(
    ("zone", "moment", "english", "chinese"),
    [
        (
            "America/New_York",
            datetime(2027, 1, 12, 20, 5, tzinfo=UTC),
            "12 Jan, 3:05 pm Eastern time",
            "1月12日 北美东部时间 15:05",
        ),
        (
            "America/Los_Angeles",
            datetime(2027, 1, 12, 23, 5, tzinfo=UTC),
            "12 Jan, 3:05 pm Pacific time",
            "1月12日 北美太平洋时间 15:05",
        ),
        (
            "Asia/Shanghai",
            datetime(2027, 1, 12, 7, 5, tzinfo=UTC),
            "12 Jan, 3:05 pm Beijing time",
            "1月12日 北京时间 15:05",
        ),
        ("UTC", datetime(2027, 1, 12, 0, 0, tzinfo=UTC), "12 Jan, 12:00 am UTC", "1月12日 UTC 00:00"),
        (
            "Europe/London",
            datetime(2027, 1, 12, 12, 0, tzinfo=UTC),
            "12 Jan, 12:00 pm UK time",
            "1月12日 英国时间 12:00",
        ),
        (
            "Europe/Berlin",
            datetime(2027, 1, 12, 8, 30, tzinfo=UTC),
            "12 Jan, 9:30 am Central European time",
            "1月12日 中欧时间 09:30",
        ),
        # no common name: the abbreviation, else the offset
        ("Asia/Kolkata", datetime(2027, 1, 12, 8, 30, tzinfo=UTC), "12 Jan, 2:00 pm IST", "1月12日 IST 14:00"),
        ("Asia/Dubai", datetime(2027, 1, 12, 8, 30, tzinfo=UTC), "12 Jan, 12:30 pm UTC+4", "1月12日 UTC+4 12:30"),
    ],
)
def test_a_moment_has_local_time_and_the_zone_as_people_say_it(frozen, zone, moment, english, chinese):
    assert _in("en", zone, moment_text, moment) == english
    assert _in("zh-hans", zone, moment_text, moment) == chinese


def test_the_zone_is_never_an_ambiguous_abbreviation(frozen):
    chicago = datetime(2027, 1, 12, 21, 5, tzinfo=UTC)
    assert _in("en", "America/Chicago", moment_text, chicago) == "12 Jan, 3:05 pm Central time"
    for zone in ("America/Chicago", "Asia/Shanghai", "Asia/Taipei"):
        for language in ("en", "zh-hans"):
            assert "CST" not in _in(language, zone, moment_text, chicago)


def test_daylight_saving_time_boundaries_in_new_york(frozen):
    # clocks go forward at 2:00 on 14 March 2027: a minute before and the minute after
    assert (
        _in("en", "America/New_York", moment_text, datetime(2027, 3, 14, 6, 59, tzinfo=UTC))
        == "14 Mar, 1:59 am Eastern time"
    )
    assert (
        _in("en", "America/New_York", moment_text, datetime(2027, 3, 14, 7, 0, tzinfo=UTC))
        == "14 Mar, 3:00 am Eastern time"
    )
    # clocks go back at 2:00 on 7 November 2027: 1:30 happens twice, both read 1:30 Eastern time
    assert (
        _in("zh-hans", "America/New_York", moment_text, datetime(2027, 11, 7, 5, 30, tzinfo=UTC))
        == "2027年11月7日 北美东部时间 01:30"
    )
    assert (
        _in("zh-hans", "America/New_York", moment_text, datetime(2027, 11, 7, 6, 30, tzinfo=UTC))
        == "2027年11月7日 北美东部时间 01:30"
    )
    # the day follows the local clock across the change: 04:30 UTC is 11:30 pm on the 6th in winter time...
    assert _in("en", "America/New_York", day_text, datetime(2027, 11, 8, 4, 30, tzinfo=UTC)) == "7 Nov 2027"
    # ...and 00:30 on the 8th in summer time (03:30 UTC is 11:30 pm in EDT the day before)
    assert _in("en", "America/New_York", day_text, datetime(2027, 3, 15, 3, 30, tzinfo=UTC)) == "14 Mar"


def test_sms_safe_english(frozen):
    text = _in("en", "America/New_York", moment_text, datetime(2027, 1, 12, 20, 5, tzinfo=UTC))
    assert text.isascii()


def test_clock_text_for_a_time_later_today(frozen):
    assert (
        _in("en", "America/New_York", clock_text, datetime(2026, 12, 7, 17, 15, tzinfo=UTC)) == "12:15 pm Eastern time"
    )
    assert _in("zh-hans", "Asia/Shanghai", clock_text, datetime(2026, 12, 7, 17, 15, tzinfo=UTC)) == "北京时间 01:15"


def test_zone_text_in_summer_is_the_same_name(frozen):
    summer = datetime(2027, 7, 1, 12, 0, tzinfo=UTC).astimezone(timezone.get_default_timezone())
    with translation.override("en"):
        from zoneinfo import ZoneInfo

        assert zone_text(summer.astimezone(ZoneInfo("America/New_York"))) == "Eastern time"
        assert zone_text(summer.astimezone(ZoneInfo("Pacific/Honolulu"))) == "Hawaii time"


def test_template_filters(frozen):
    template = Template(
        "{% load refill_format %}"
        '{{ end|day }}|{{ end|day:"year" }}|{{ paid|when }}|{{ paid|when:"year" }}|{{ paid|clock }}'
    )
    context = Context(
        {"end": datetime(2027, 1, 12, 20, 5, tzinfo=UTC), "paid": datetime(2026, 12, 7, 20, 5, tzinfo=UTC)}
    )
    with translation.override("en"), timezone.override("America/New_York"):
        assert template.render(context) == (
            "12 Jan|12 Jan 2027|7 Dec, 3:05 pm Eastern time|7 Dec 2026, 3:05 pm Eastern time|3:05 pm Eastern time"
        )
    with translation.override("zh-hans"), timezone.override("Asia/Shanghai"):
        assert template.render(context) == (
            "1月13日|2027年1月13日|12月8日 北京时间 04:05|2026年12月8日 北京时间 04:05|北京时间 04:05"
        )


def test_a_phone_number_never_breaks_in_a_page_and_stays_plain_text_elsewhere():
    number = PhoneNumberText("+1 202-555-0143")
    page = Template("<p>{{ number }}</p>").render(Context({"number": number}))
    assert page == '<p><span class="msisdn">+1 202-555-0143</span></p>'
    assert f"{number}" == "+1 202-555-0143" and "%s" % number == "+1 202-555-0143"  # noqa: UP031


def test_a_line_shows_its_number_in_a_span_and_the_filter_as_text():
    from refill.lines.models import Line

    line = Line(msisdn="+8613800138000")
    html = Template("{% load refill_format %}{{ line.msisdn_display }}|{{ line.msisdn|msisdn }}").render(
        Context({"line": line})
    )
    assert html == '<span class="msisdn">+86 138 0013 8000</span>|+86 138 0013 8000'


def test_an_iccid_breaks_only_between_groups_of_four():
    assert iccid_html("8901260123456789012") == '<span class="iccid">8901 2601 2345 6789 012</span>'
