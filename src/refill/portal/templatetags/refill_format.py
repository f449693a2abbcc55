from __future__ import annotations

from babel.numbers import format_decimal
from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from refill.domain.identifiers import format_msisdn
from refill.formatting import babel_locale, money_text

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return money_text(amount, currency)


@register.filter
def msisdn(value: str) -> str:
    return format_msisdn(value or "")


@register.simple_tag
def allowance_text(kind: str, amount: int) -> str:
    locale = babel_locale()
    if kind == "data":
        if amount >= 1024:
            return _("%(amount)s GB") % {"amount": format_decimal(round(amount / 1024, 1), locale=locale)}
        return _("%(amount)s MB") % {"amount": format_decimal(amount, locale=locale)}
    if kind == "voice":
        return _("%(amount)s min") % {"amount": format_decimal(amount, locale=locale)}
    return _("%(amount)s SMS") % {"amount": format_decimal(amount, locale=locale)}


@register.filter
def when(value) -> str:
    """Date and time in the active (customer's) time zone, with the zone's abbreviation."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"
