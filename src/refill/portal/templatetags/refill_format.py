from __future__ import annotations

import re
from html import escape

from django import template
from django.utils import translation
from django.utils.safestring import mark_safe

from refill import formatting
from refill.domain.identifiers import format_msisdn
from refill.formatting import money_text

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return money_text(amount, currency)


@register.filter
def msisdn(value: str) -> str:
    """The number as plain text, for emails, SMS, titles and attributes. In a page's text,
    ``line.msisdn_display`` comes wrapped in a span that never breaks (formatting.PhoneNumberText)."""
    return format_msisdn(value or "")


@register.filter
def iccid(value: str) -> str:
    """An ICCID in groups of four that a line break can only fall between."""
    return mark_safe(formatting.iccid_html(value))  # noqa: S308 - iccid_html escapes the digits


@register.simple_tag
def allowance_text(kind: str, amount: int) -> str:
    return formatting.allowance_text(kind, amount)


@register.filter
def when(value, option: str = "") -> str:
    """A moment with its time, in the active (customer's) time zone, the zone named as people say
    it: "12 Jan, 3:05 pm Eastern time", "1月12日 北京时间 15:05". ``|when:"year"`` always shows the
    year (receipts). Never an ambiguous abbreviation such as "CST"."""
    return formatting.moment_text(value, year=option == "year")


@register.filter
def day(value, option: str = "") -> str:
    """The day something is valid until, ends or renews: "12 Jan", "Tue 12 Jan" in the coming week,
    "12 Jan 2028" six months away or more; "1月12日". ``|day:"year"`` always shows the year."""
    return formatting.day_text(value, year=option == "year")


@register.filter
def clock(value) -> str:
    """A time later today, with its zone: "3:05 pm Eastern time", "北京时间 15:05"."""
    return formatting.clock_text(value)


@register.filter
def rate(value) -> str:
    """A rate already in percent (a success rate of 20.0): "20.0%"."""
    return formatting.rate_text(value)


@register.filter
def percent(rate) -> str:
    """A rate stored as a fraction (a tax rate of 0.0600) as a percentage: "6%"."""
    return formatting.percent_text(rate)


@register.filter
def in_sentence(name) -> str:
    """A name set into a sentence: in Chinese it sits against Chinese words without spaces
    (使用支付宝向), and gets a space on a side where it begins or ends with Latin letters or digits
    (使用 PayPal 向); English sentences carry their own spaces."""
    return formatting.name_in_sentence(str(name))


@register.filter
def unbroken_words(name) -> str:
    """``name`` with each hyphenated word kept on one line ("7-Day" never ends a line at "7-"),
    while a long name may still wrap between its words on a phone."""
    words = re.split(r"(\s+)", str(name))
    return mark_safe(
        "".join(f'<span class="nowrap">{escape(w)}</span>' if "-" in w else escape(w) for w in words)
    )


@register.simple_tag
def sentence_gap() -> str:
    """The space between two sentences: one in English, none after a Chinese full stop (。)."""
    return "" if _chinese() else " "


def _chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")
