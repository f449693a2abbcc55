"""Money and allowances as people read them, in the active language (Babel), for pages, emails and
messages."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal
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
