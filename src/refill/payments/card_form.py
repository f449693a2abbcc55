"""The card fields every face shows (portal checkouts and top-up, saved cards, the shop counter,
fleets, the guest refill), and the one place that turns them into ``CardDetails``.

The rules here are the ones the browser checks too (static/refill/card-form.js): a number with a
valid Luhn check digit, typed with or without spaces and dashes; an expiry typed the ways people
write it (1229, 12/29, 12 / 2029, 12-29) that is a real month not yet past; a 3 or 4 digit security
code. The browser is given these very messages (``CardForm.messages``, rendered into the fields'
data- attributes), so a customer sees the same words whether the check ran there or here.

The number, the name and the expiry are written back into the page after a server-side refusal (a
decline, a refused promotion code) so that nobody retypes a 16-digit number; the security code is
not, and the page says so next to it. Nothing here is stored: the gateway tokenises at once."""

from __future__ import annotations

import datetime
import re
from functools import wraps

from django import forms
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

from refill.integrations.payments.base import BrowserCard, CardDetails

from .selectors import card_browser_setup

# A card is not issued for longer than this; a later year is a typing mistake, not a card.
MAX_YEARS_AHEAD = 20

MESSAGES = {
    "number_required": _("Enter the card number."),
    "number_invalid": _("The card number is not valid. Check it and try again."),
    "expiry_required": _("Enter the expiry date."),
    "expiry_invalid": _("Enter the expiry as MM/YY, e.g. 12/30."),
    "expiry_past": _("This card has expired. Check the expiry date or use another card."),
    "cvc_required": _("Enter the security code."),
    "cvc_invalid": _("Enter the 3 or 4 digit security code from the back of the card."),
    "summary": _("Check the card details"),
    # The provider's own card field (Stripe.js): its messages about what was typed are the
    # provider's, in the reader's language; these are Refill's around it.
    "element_required": _("Enter your card in the card field."),
    "element_unavailable": _("The card field could not be loaded. Reload the page, or choose another way to pay."),
}

# A provider's reference for a card its script made in the browser (Stripe: pm_…).
_BROWSER_REFERENCE = re.compile(r"^[A-Za-z0-9_]{3,255}$")

_NUMBER_SEPARATORS = re.compile(r"[\s-]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_EXPIRY_WITH_SEPARATOR = re.compile(r"^([0-9]{1,2})[/\-.]([0-9]{2}|[0-9]{4})$")
_EXPIRY_DIGITS = re.compile(r"^([0-9]{2})([0-9]{2}|[0-9]{4})$")


def luhn_valid(digits: str) -> bool:
    """The Luhn check digit of a card number (digits only) is right."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_number_parse(text: str) -> str | None:
    """The card number's digits, or None when it is not a card number: spaces and dashes are
    allowed between digits, anything else is not; 12 to 19 digits; a valid Luhn check digit."""
    digits = _NUMBER_SEPARATORS.sub("", text or "")
    if not _ASCII_DIGITS.fullmatch(digits) or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        return None
    return digits


def card_expiry_parse(text: str, *, today: datetime.date | None = None) -> tuple[int, int] | None:
    """(month, four-digit year) from an expiry as people type it, or None when it is not one.
    Accepts MM/YY, MM/YYYY, MM-YY, MMYY and MMYYYY, with any spaces; says nothing of the past
    (``card_expired``)."""
    compact = re.sub(r"\s+", "", text or "")
    found = _EXPIRY_WITH_SEPARATOR.match(compact) or _EXPIRY_DIGITS.match(compact)
    if found is None:
        return None
    month, year = int(found.group(1)), int(found.group(2))
    if len(found.group(2)) == 2:
        year += 2000
    today = today or timezone.localdate()
    if not 1 <= month <= 12 or year > today.year + MAX_YEARS_AHEAD:
        return None
    return month, year


def card_expired(month: int, year: int, *, today: datetime.date | None = None) -> bool:
    """A card is good until the end of its expiry month."""
    today = today or timezone.localdate()
    return (year, month) < (today.year, today.month)


class SecretInput(forms.TextInput):
    """A text input that never writes its value back into the page (the security code)."""

    def format_value(self, value):
        return None


def _card_field(
    label,
    card: str,
    *,
    max_length: int,
    autocomplete: str,
    placeholder: str,
    errors: dict,
    widget=forms.TextInput,
    **extra,
) -> forms.CharField:
    """One of the typed card fields: the numeric keyboard, the browser's autofill name, and the
    hooks that card-form.js checks it by (``data-card``) and tests find it by (``data-testid``)."""
    attrs = {"inputmode": "numeric", "autocomplete": autocomplete, "placeholder": placeholder, **extra}
    attrs |= {"data-card": card, "data-testid": f"card-{card}"}
    return forms.CharField(label=label, max_length=max_length, error_messages=errors, widget=widget(attrs=attrs))


class CardForm(forms.Form):
    """Card fields for the gateway, checked as the browser checks them. ``card_details()`` gives
    the ``CardDetails`` to pay or save with once the form is valid."""

    # The card fields are needed only when a card is the chosen way to pay: the browser's own
    # "required" would block paying from the wallet, so the checks are ours (card-form.js).
    use_required_attribute = False
    messages = MESSAGES

    card_number = _card_field(
        _("Card number"),
        "number",
        max_length=30,
        autocomplete="cc-number",
        placeholder="4242 4242 4242 4242",
        errors={"required": MESSAGES["number_required"]},
        spellcheck="false",
    )
    card_expiry = _card_field(
        _("Expiry (MM/YY)"),
        "expiry",
        max_length=12,
        autocomplete="cc-exp",
        placeholder="MM/YY",
        errors={"required": MESSAGES["expiry_required"]},
    )
    card_cvc = _card_field(
        _("Security code"),
        "cvc",
        max_length=4,
        autocomplete="cc-csc",
        placeholder="123",
        errors={"required": MESSAGES["cvc_required"], "max_length": MESSAGES["cvc_invalid"]},
        widget=SecretInput,
    )
    card_holder = forms.CharField(
        label=_("Name on card"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "cc-name", "data-testid": "card-holder"}),
    )

    def __init__(self, *args, keep_number: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        # When the adapter that takes cards tokenises them in the browser (Stripe), the page shows
        # the provider's card field instead of ours and posts only the reference its script made:
        # the number, expiry and code never reach Refill (templates/portal/_card_fields.html).
        self.browser = card_browser_setup()
        if self.browser is not None:
            for name in ("card_number", "card_expiry", "card_cvc"):
                del self.fields[name]
            self.fields["card_reference"] = forms.CharField(
                max_length=255,
                error_messages={"required": MESSAGES["element_required"]},
                widget=forms.HiddenInput(attrs={"data-card-reference": "", "data-testid": "card-reference"}),
            )
            return
        if not keep_number:
            # The shop counter's screen faces the shop: a number typed there is never shown again.
            self.fields["card_number"].widget = SecretInput(attrs=self.fields["card_number"].widget.attrs)
        elif self.is_bound:
            # Written back after a refusal: the number, name and expiry are; the code is not.
            self.fields["card_cvc"].help_text = _("For your safety the security code is never kept: type it again.")

    @classmethod
    def kept(cls, data) -> CardForm:
        """An unbound form showing what was typed (not the security code), for a page shown again
        without a payment attempt (a promotion code applied): no errors for fields not yet filled."""
        names = ("card_number", "card_expiry", "card_holder")
        # (The provider's card field keeps nothing: its reference is made again for the next payment.)
        return cls(initial={name: str(data.get(name, ""))[:100] for name in names if data.get(name)})

    def clean_card_number(self) -> str:
        digits = card_number_parse(self.cleaned_data["card_number"])
        if digits is None:
            raise forms.ValidationError(MESSAGES["number_invalid"], code="invalid")
        return digits

    def clean_card_expiry(self) -> tuple[int, int]:
        parsed = card_expiry_parse(self.cleaned_data["card_expiry"])
        if parsed is None:
            raise forms.ValidationError(MESSAGES["expiry_invalid"], code="invalid")
        if card_expired(*parsed):
            raise forms.ValidationError(MESSAGES["expiry_past"], code="expired")
        return parsed

    def clean_card_cvc(self) -> str:
        cvc = self.cleaned_data["card_cvc"].strip()
        if not _ASCII_DIGITS.fullmatch(cvc) or len(cvc) not in (3, 4):
            raise forms.ValidationError(MESSAGES["cvc_invalid"], code="invalid")
        return cvc

    def clean_card_reference(self) -> str:
        reference = self.cleaned_data["card_reference"].strip()
        if not _BROWSER_REFERENCE.fullmatch(reference):
            raise forms.ValidationError(MESSAGES["element_required"], code="invalid")
        return reference

    def card_details(self) -> CardDetails | BrowserCard:
        """The card for the gateway (the form must be valid): as typed, or the reference the
        provider's script made in the browser."""
        if self.browser is not None:
            return BrowserCard(
                reference=self.cleaned_data["card_reference"], holder=self.cleaned_data.get("card_holder", "")
            )
        month, year = self.cleaned_data["card_expiry"]
        return CardDetails(
            number=self.cleaned_data["card_number"],
            exp_month=month,
            exp_year=year,
            cvc=self.cleaned_data["card_cvc"],
            holder=self.cleaned_data.get("card_holder", ""),
        )


def card_page(view):
    """For a view whose answer to a POST may write a typed card number back into the page (after a
    refusal): that answer is never stored, by the browser's history or by a proxy."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method == "POST":
            patch_cache_control(response, no_store=True)
        return response

    return wrapped
