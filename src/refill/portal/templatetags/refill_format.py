from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from refill.domain.identifiers import format_msisdn
from refill.domain.money import quantize

register = template.Library()

BABEL_LOCALES = {"en": "en_US", "zh-hans": "zh_Hans_CN"}


def _locale() -> str:
    return BABEL_LOCALES.get(translation.get_language() or "en", "en_US")


@register.filter
def money(amount, currency: str) -> str:
    if amount is None or not currency:
        return ""
    value = quantize(Decimal(amount), currency)
    return format_currency(value, currency, locale=_locale())


@register.filter
def msisdn(value: str) -> str:
    return format_msisdn(value or "")


@register.simple_tag
def allowance_text(kind: str, amount: int) -> str:
    locale = _locale()
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
