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
    """Date and time in the active (customer's) time zone, with the zone's abbreviation."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"
