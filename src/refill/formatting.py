"""Money, allowances, tax rates and time zones as people read them, in the active language (Babel),
for pages, emails and messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from babel.dates import get_timezone_name
from babel.numbers import format_currency, format_decimal, format_percent
from django.utils import translation
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


# Zones whose readers name them otherwise than CLDR's long name: in China the time is 北京时间.
ZONE_NAMES_ZH = {
    "Asia/Shanghai": "北京时间",
    "Asia/Chongqing": "北京时间",
    "Asia/Harbin": "北京时间",
    "PRC": "北京时间",
}


def utc_offset_text(offset: timedelta | None) -> str:
    """ "UTC+8", "UTC-5", "UTC+5:30", "UTC". An ASCII hyphen, not U+2212: an SMS with any
    character outside the GSM alphabet is sent as UCS-2 and holds half as many characters."""
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}{f':{rest:02d}' if rest else ''}"


def zone_text(local: datetime) -> str:
    """The time zone of ``local`` as people say it, never an ambiguous abbreviation ("CST" is
    China to one reader and the US Midwest to another): 北京时间 in Chinese for China's zone, else
    CLDR's long name with the UTC offset: "China Standard Time (UTC+8)", "北美东部标准时间（UTC-5）"."""
    key = getattr(local.tzinfo, "key", "") or ""
    offset, locale = local.utcoffset(), babel_locale()
    cache_key = (key, offset, bool(local.dst()), locale)
    if cache_key not in _ZONE_TEXTS:
        _ZONE_TEXTS[cache_key] = _zone_text(local, key, offset, locale)
    return _ZONE_TEXTS[cache_key]


# (zone, offset, daylight time, locale) -> text: Babel is slow and a page shows many times.
_ZONE_TEXTS: dict[tuple, str] = {}


def _zone_text(local: datetime, key: str, offset: timedelta | None, locale: str) -> str:
    utc = utc_offset_text(offset)
    if locale.startswith("zh") and key in ZONE_NAMES_ZH:
        return ZONE_NAMES_ZH[key]
    if not key or key in {"UTC", "Etc/UTC", "Etc/GMT", "GMT"}:
        return utc
    name = get_timezone_name(local, width="long", locale=locale)
    if not name or name.startswith(("GMT", "UTC")):
        return utc
    return f"{name}（{utc}）" if locale.startswith("zh") else f"{name} ({utc})"
