"""Money, allowances, tax rates, phone numbers, dates and time zones as people read them, in the
active language (Babel), for pages, emails and messages."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from html import escape

from babel.dates import format_date, get_timezone_location, get_timezone_name
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from refill.domain.money import quantize

BABEL_LOCALES = {"en": "en_US", "zh-hans": "zh_Hans_CN"}


def babel_locale() -> str:
    return BABEL_LOCALES.get(translation.get_language() or "en", "en_US")


def money_text(amount, currency: str) -> str:
    """``amount`` rounded to the currency's minor unit and formatted for the active language."""
    if amount is None or not currency:
        return ""
    return _formatted(quantize(Decimal(amount), currency), currency, babel_locale())


@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    # Babel takes a while per call, and the same few prices are shown over and over (a batch of
    # auto-renewals, a catalogue page): remembered per amount, currency and language.
    return format_currency(amount, currency, locale=locale)


def allowance_text(kind: str, amount: int) -> str:
    """An allowance (data in MB, voice in minutes, SMS) as people read it: "1.5 GB", "500 min"."""
    locale = babel_locale()
    if kind == "data":
        if amount >= 1024:
            return _("%(amount)s GB") % {"amount": format_decimal(round(amount / 1024, 1), locale=locale)}
        return _("%(amount)s MB") % {"amount": format_decimal(amount, locale=locale)}
    if kind == "voice":
        return _("%(amount)s min") % {"amount": format_decimal(amount, locale=locale)}
    return _("%(amount)s SMS") % {"amount": format_decimal(amount, locale=locale)}


def percent_text(rate) -> str:
    """A tax rate stored as a fraction (0.0600) as people read it: "6%", "8.25%", "0%"."""
    if rate is None:
        return ""
    return format_percent(Decimal(rate), format="#,##0.##%", locale=babel_locale())


def rate_text(value) -> str:
    """A rate already in percent (a success rate of 20.0) as the locale writes it, one decimal:
    "20.0%" (English and Chinese alike); "" for none."""
    if value is None:
        return ""
    return format_percent(Decimal(value) / 100, format="#,##0.0%", locale=babel_locale())


class PhoneNumberText(str):
    """A phone number as text that, placed in an HTML page, comes wrapped in a ``msisdn`` span
    (white-space: nowrap): a number broken over two lines is misread and mis-dialled. Anywhere
    else (messages, JSON, f-strings) it is the plain text. Templates that render it into plain
    text (emails, SMS, titles, attributes) use the ``msisdn`` filter instead, which gives a str."""

    __slots__ = ()

    def __html__(self) -> str:
        return f'<span class="msisdn">{escape(str(self))}</span>'


def iccid_html(iccid: str) -> str:
    """An ICCID (19-20 digits) in groups of four inside an ``iccid`` span (monospace): a line
    break can only fall between groups, and a group is easier to read back over the phone."""
    digits = str(iccid or "")
    groups = " ".join(digits[start : start + 4] for start in range(0, len(digits), 4))
    return f'<span class="iccid">{escape(groups)}</span>'


# Dates and times, as people read them (docs/translation.md, "Dates and times"):
# - a validity, an end or a next renewal is a day: "12 Jan" / "1月12日";
# - a moment with a time adds the local time and the zone named as people say it:
#   "12 Jan, 3:05 pm Eastern time" / "1月12日 北京时间 15:05";
# - the year is left out only while the day is less than six months away (either way), where a day
#   and month cannot be mistaken for another year's: "12 Jan 2028" a year ahead, "3 May 2026" for
#   an old order;
# - the weekday is added to a day from tomorrow to a week ahead, when people plan by it: "Tue 12 Jan".
YEAR_WINDOW = timedelta(days=183)
WEEKDAY_WINDOW = timedelta(days=7)

DAY_PATTERNS = {
    # (weekday, year) -> Babel pattern
    "en": {(False, False): "d MMM", (False, True): "d MMM y", (True, False): "EEE d MMM", (True, True): "EEE d MMM y"},
    "zh": {
        (False, False): "M月d日",
        (False, True): "y年M月d日",
        (True, False): "M月d日（EEE）",
        (True, True): "y年M月d日（EEE）",
    },
}


def _language_key(locale: str) -> str:
    return "zh" if locale.startswith("zh") else "en"


def _local(value) -> datetime | date | None:
    """``value`` in the active time zone (the customer's on their pages and messages)."""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_current_timezone())
        return timezone.localtime(value)
    if isinstance(value, date):
        return value
    return None


def day_text(value, *, year: bool = False, now: datetime | None = None) -> str:
    """The day of ``value`` (a datetime, read in the active time zone, or a date): "12 Jan",
    "Tue 12 Jan" (tomorrow to a week ahead), "12 Jan 2028" (six months away or more, or ``year``);
    "1月12日", "1月12日（周二）", "2028年1月12日"."""
    local = _local(value)
    if local is None:
        return ""
    day = local.date() if isinstance(local, datetime) else local
    today = timezone.localdate(now or timezone.now())
    with_year = year or abs(day - today) >= YEAR_WINDOW
    with_weekday = not year and today < day <= today + WEEKDAY_WINDOW
    locale = babel_locale()
    return format_date(day, DAY_PATTERNS[_language_key(locale)][(with_weekday, with_year)], locale=locale)


def time_text(local: datetime) -> str:
    """The clock time of ``local`` (already in the zone to show): "3:05 pm", "12:00 am" in English,
    "15:05" in Chinese. Plain ASCII, no CLDR narrow spaces: an SMS stays in the GSM alphabet."""
    if _language_key(babel_locale()) == "zh":
        return f"{local.hour:02d}:{local.minute:02d}"
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def clock_text(value) -> str:
    """Time of day with its zone, for something later today: "3:05 pm Eastern time", "北京时间 15:05"."""
    local = _local(value)
    if not isinstance(local, datetime):
        return ""
    return _with_zone(time_text(local), local)


def moment_text(value, *, year: bool = False, now: datetime | None = None) -> str:
    """A moment with its time in the active time zone, the zone named as people say it:
    "12 Jan, 3:05 pm Eastern time", "1月12日 北京时间 15:05". A date alone gives its day."""
    local = _local(value)
    if local is None:
        return ""
    if not isinstance(local, datetime):
        return day_text(local, year=year, now=now)
    day = day_text(local, year=year, now=now)
    if _language_key(babel_locale()) == "zh":
        return f"{day} {_with_zone(time_text(local), local)}"
    return f"{day}, {_with_zone(time_text(local), local)}"


def _with_zone(clock: str, local: datetime) -> str:
    zone = zone_text(local)
    return f"{zone} {clock}" if _language_key(babel_locale()) == "zh" else f"{clock} {zone}"


# Zones people name otherwise than CLDR's generic name. In China the time is 北京时间 (and in
# English "Beijing time"); "UK time" is what Britons say (CLDR only has GMT / British Summer Time).
ZONE_NAMES = {
    "zh": {
        "Asia/Shanghai": "北京时间",
        "Asia/Chongqing": "北京时间",
        "Asia/Harbin": "北京时间",
        "Asia/Urumqi": "北京时间",
        "PRC": "北京时间",
        "Europe/London": "英国时间",
        "Pacific/Honolulu": "夏威夷时间",
    },
    "en": {
        "Asia/Shanghai": "Beijing time",
        "Asia/Chongqing": "Beijing time",
        "Asia/Harbin": "Beijing time",
        "Asia/Urumqi": "Beijing time",
        "PRC": "Beijing time",
        "Europe/London": "UK time",
        "Pacific/Honolulu": "Hawaii time",
    },
}
UTC_KEYS = {"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"}


def utc_offset_text(offset: timedelta | None) -> str:
    """ "UTC+8", "UTC-5", "UTC+5:30", "UTC". An ASCII hyphen, not U+2212: an SMS with any
    character outside the GSM alphabet is sent as UCS-2 and holds half as many characters."""
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}{f':{rest:02d}' if rest else ''}"


def zone_text(local: datetime) -> str:
    """The time zone of ``local`` as people say it: "Eastern time", "Pacific time", "北京时间",
    "北美东部时间", "Central European time"; for a zone without such a name, its abbreviation
    ("IST") or, failing that, its UTC offset ("UTC+4"). Never "CST", which is China to one reader
    and the US Midwest to another: those zones all have names."""
    key = getattr(local.tzinfo, "key", "") or ""
    offset, locale = local.utcoffset(), babel_locale()
    cache_key = (key, offset, local.tzname(), locale)
    if cache_key not in _ZONE_TEXTS:
        _ZONE_TEXTS[cache_key] = _zone_text(local, key, offset, locale)
    return _ZONE_TEXTS[cache_key]


# (zone, offset, abbreviation, locale) -> text: Babel is slow and a page shows many times.
_ZONE_TEXTS: dict[tuple, str] = {}


def _zone_text(local: datetime, key: str, offset: timedelta | None, locale: str) -> str:
    language = _language_key(locale)
    if key in ZONE_NAMES[language]:
        return ZONE_NAMES[language][key]
    if not key or key in UTC_KEYS:
        return utc_offset_text(offset)
    name = get_timezone_name(local, width="long", zone_variant="generic", locale=locale)
    if name and not name.startswith(("GMT", "UTC")):
        # CLDR capitalises "Time" as in a title; in a sentence people write "Eastern time".
        return name[:-4] + "time" if name.endswith(" Time") else name
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha() and abbreviation.isascii():
        return abbreviation
    return utc_offset_text(offset)


def zone_choice_text(key: str) -> str:
    """A time zone to choose from, as people say it, with its city so that zones sharing a name
    stay apart: "Eastern time (New York)", "北美东部时间（纽约）"; "UTC" alone."""
    locale = babel_locale()
    if (key, locale) not in _ZONE_CHOICES:
        _ZONE_CHOICES[(key, locale)] = _zone_choice_text(key, locale)
    return _ZONE_CHOICES[(key, locale)]


# (zone, locale) -> text: the Settings page lists every zone.
_ZONE_CHOICES: dict[tuple[str, str], str] = {}


def _zone_choice_text(key: str, locale: str) -> str:
    if key in UTC_KEYS:
        return "UTC"
    zone = zoneinfo.ZoneInfo(key)
    # The zone's generic name is the same all year; a fixed day keeps it independent of today.
    name = zone_text(datetime(2026, 1, 15, 12, tzinfo=zone))
    if key.startswith("Etc/"):
        return name  # "UTC+4": a fixed offset has no city
    try:
        city = get_timezone_location(zone, locale=locale, return_city=True)
    except LookupError:
        city = ""
    # Without a CLDR city Babel falls back to the key's tail ("Argentina/La_Rioja").
    city = (city or key).rsplit("/", 1)[-1].replace("_", " ")
    return _("%(zone)s (%(city)s)") % {"zone": name, "city": city}


def days_left(until: datetime | None, now: datetime) -> int | None:
    """Whole days left until ``until``, rounded up (1 day 23 hours is 2 days: the customer has the
    second day too); 0 for the last hours (pages say "less than a day"); None once it has ended.
    The one count every page shows for "Days left"."""
    if until is None or until <= now:
        return None
    remaining = until - now
    if remaining < timedelta(days=1):
        return 0
    whole, rest = divmod(remaining, timedelta(days=1))
    return whole + (1 if rest else 0)


def name_in_sentence(name: str) -> str:
    """``name`` as it sits inside a sentence of the active language: Chinese puts a space between
    Chinese and Latin letters or digits, and none between Chinese words; English is left alone."""
    if not name or not (translation.get_language() or "").startswith("zh"):
        return name
    before = " " if name[0].isascii() and name[0].isalnum() else ""
    after = " " if name[-1].isascii() and name[-1].isalnum() else ""
    return f"{before}{name}{after}"


def public_url(path: str) -> str:
    """An absolute link to ``path`` on this Refill, as customers reach it (REFILL_PUBLIC_URL): in
    emails, messages and anything read away from the site."""
    return settings.REFILL_PUBLIC_URL.rstrip("/") + path
