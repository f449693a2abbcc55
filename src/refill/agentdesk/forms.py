from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refill.portal.forms import AutoRenewForm, SecretInputPin


class FindForm(forms.Form):
    msisdn = forms.CharField(label=_("Phone number"), max_length=24)


class CashTopupForm(forms.Form):
    amount = forms.DecimalField(label=_("Cash received"), min_value=0, max_digits=10, decimal_places=2)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class PinForm(forms.Form):
    pin = forms.CharField(label=pgettext_lazy("the PIN printed on the card", "Refill PIN"), max_length=40)


class ShopPinForm(forms.Form):
    """The customer types their shop PIN themselves; it is never written back into the page."""

    shop_pin = forms.CharField(
        label=_("Shop PIN"),
        max_length=12,
        widget=SecretInputPin(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ShopRenewForm(forms.Form):
    plan = forms.ChoiceField(label=_("Plan"), widget=forms.RadioSelect)
    periods = forms.TypedChoiceField(label=_("How many periods"), coerce=int)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)
    expected_total = forms.DecimalField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, plans, max_periods: int = 12, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.code, plan.name) for plan in plans]
        self.fields["periods"].choices = [(n, str(n)) for n in range(1, max(max_periods, 1) + 1)]


class DrawerCloseForm(forms.Form):
    counted = forms.DecimalField(label=_("Cash counted in the drawer"), min_value=0, max_digits=12, decimal_places=2)
    note = forms.CharField(
        label=pgettext_lazy("staff note", "Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class CounterAutoRenewForm(AutoRenewForm):
    """The customer's auto-renew settings as the agent changes them for the customer standing at
    the counter: the portal's form and rules, its labels said of the customer, not by them."""

    LABELS = {
        "enabled": _("Renew this line automatically before it ends"),
        "cap_per_renewal": _("Most the customer spends on one renewal"),
        "cap_per_month": _("Most the customer spends on auto-renewals in a calendar month"),
        "use_wallet": _("Pay from the customer's wallet first"),
        "use_default_method": _("Then charge the customer's default card"),
        "use_backup_method": _("If that fails, charge the customer's backup card"),
        "retention_fallback": _(
            "If the plan cannot be paid, keep the customer's number with the cheapest keep-my-number plan"
        ),
    }

    CARD_LABELS = {
        "use_default_method": _("Then charge the customer's default card (%(card)s)"),
        "use_backup_method": _("If that fails, charge the customer's backup card (%(card)s)"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = self.LABELS.get(name, field.label)
        self.name_cards()

    def card_name(self, method) -> str:
        # The brand only: the agent never sees a saved card's digits (issue 15's rule).
        return method.brand_name
