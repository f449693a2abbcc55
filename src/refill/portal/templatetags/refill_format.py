from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from refill import formatting
from refill.domain.identifiers import format_msisdn
from refill.formatting import money_text

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return money_text(amount, currency)


@register.filter
def msisdn(value: str) -> str:
    return format_msisdn(value or "")


@register.simple_tag
def allowance_text(kind: str, amount: int) -> str:
    return formatting.allowance_text(kind, amount)


@register.filter
def when(value) -> str:
    """Date and time in the active (customer's) time zone, with the zone named as people say it
    ("北京时间", "Eastern Standard Time (UTC-5)"), never an ambiguous abbreviation such as "CST"."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{date_format(local, 'DATETIME_FORMAT')} {formatting.zone_text(local)}"


@register.filter
def percent(rate) -> str:
    """A rate stored as a fraction (a tax rate of 0.0600) as a percentage: "6%"."""
    return formatting.percent_text(rate)
