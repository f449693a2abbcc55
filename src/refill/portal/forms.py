from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refill.customers.models import LANGUAGE_CHOICES, Customer, time_zone_choices
from refill.domain.money import minor_units, quantize
from refill.payments.card_form import CardForm
from refill.renewals.autorenew_settings import CAPS, autorenew_settings_errors, has_backup_method
from refill.renewals.models import AutoRenew

# The card fields live with payments (one form for every face); imported here by the portal's views.
__all__ = ["AddonForm", "AutoRenewForm", "CardForm", "PreferencesForm", "RedeemForm", "RenewForm", "TopupForm"]


class RenewForm(forms.Form):
    plan = forms.ChoiceField(label=_("Plan"), widget=forms.RadioSelect)
    periods = forms.TypedChoiceField(label=_("How many periods"), coerce=int)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    expected_total = forms.DecimalField(widget=forms.HiddenInput, required=False)
    promotion_code = forms.CharField(
        label=_("Promotion code"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args, plans, max_periods: int = 12, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.code, plan.name) for plan in plans]
        self.fields["periods"].choices = [(n, str(n)) for n in range(1, max(max_periods, 1) + 1)]


class AddonForm(forms.Form):
    """Buy an add-on pass: which one, under the form's key, at the price shown."""

    plan = forms.ChoiceField(label=_("Add-on"), widget=forms.RadioSelect)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    expected_total = forms.DecimalField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.code, plan.name) for plan in plans]


class SecretInputPin(forms.TextInput):
    """A refill PIN is never written back into the page."""

    def format_value(self, value):
        return None


class PreferencesForm(forms.ModelForm):
    preferred_language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = Customer
        fields = ["display_name", "preferred_language", "time_zone", "notify_email", "notify_sms"]
        labels = {
            "display_name": _("Your name"),
            "notify_email": _("Send me reminders and receipts by email"),
            "notify_sms": _("Send me reminders by SMS"),
        }


class TopupForm(forms.Form):
    market = forms.ChoiceField(label=_("Currency"))
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=10, decimal_places=2)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, markets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["market"].choices = [(m.code, m.currency) for m in markets]
        if markets:  # the customer's own market comes first (portal.wallet.wallet_markets)
            self.fields["market"].initial = markets[0].code


class RedeemForm(forms.Form):
    pin = forms.CharField(
        label=pgettext_lazy("the PIN printed on the card", "Refill PIN"),
        max_length=40,
        widget=SecretInputPin(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    gift_msisdn = forms.CharField(
        label=_("Top up another number (optional)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("Leave empty to add the value to your own wallet."),
    )


class AutoRenewForm(forms.ModelForm):
    """A line's auto-renew settings (``instance``: its AutoRenew, saved or not). The caps follow
    the one rule of renewals.autorenew_settings, which the API applies too; the backup card is
    offered only to a customer who has one."""

    class Meta:
        model = AutoRenew
        fields = list(AutoRenew.SETTINGS)
        labels = {
            "enabled": _("Renew this line automatically before it ends"),
            "cap_per_renewal": _("Most to spend on one renewal"),
            "cap_per_month": _("Most to spend on auto-renewals in a calendar month"),
            "use_wallet": _("Pay from my wallet first"),
            "use_default_method": _("Then charge my default card"),
            "use_backup_method": _("If that fails, charge my backup card"),
            "retention_fallback": _("If the plan cannot be paid, keep my number with the cheapest keep-my-number plan"),
        }
        help_texts = {
            "cap_per_renewal": _("Leave empty for no limit."),
            "cap_per_month": _("Leave empty for no limit."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        line = self.instance.line
        currency = line.market.currency
        step = str(Decimal(1).scaleb(-minor_units(currency)))
        for name in CAPS:
            self.fields[name].widget.attrs.update(step=step, inputmode="decimal")
            # Shown as money is written: in the currency's minor unit ("30.00", not "30.0000").
            if self.initial.get(name) is not None:
                self.initial[name] = quantize(Decimal(self.initial[name]), currency)
        self.has_backup = has_backup_method(line.owner)
        if not self.has_backup:
            del self.fields["use_backup_method"]
        elif self.instance.pk is None:
            # A line never set up: the backup card is charged only once someone ticks it.
            self.initial["use_backup_method"] = False
        self.name_cards()

    # The card each way to pay charges, named beside it ("default card (Visa •••• 4242)").
    CARD_LABELS = {
        "use_default_method": _("Then charge my default card (%(card)s)"),
        "use_backup_method": _("If that fails, charge my backup card (%(card)s)"),
    }

    def card_name(self, method) -> str:
        return method.short_label

    def name_cards(self) -> None:
        owner = self.instance.line.owner
        methods = owner.payment_methods.filter(removed_at__isnull=True)
        chosen = {
            "use_default_method": methods.filter(is_default=True).first(),
            "use_backup_method": methods.filter(is_backup=True, is_default=False).first(),
        }
        for name, method in chosen.items():
            if method is not None and name in self.fields:
                self.fields[name].label = self.CARD_LABELS[name] % {"card": self.card_name(method)}

    def clean(self):
        cleaned = super().clean()
        caps = {name: cleaned.get(name) for name in CAPS if name not in self.errors}
        for name, text in autorenew_settings_errors(line=self.instance.line, changes=caps).items():
            self.add_error(name, text)
        return cleaned

    def changes(self) -> dict:
        """The settings to save: every field shown, and no backup card charged when there is none."""
        changes = {name: self.cleaned_data[name] for name in self.fields}
        if not self.has_backup:
            changes["use_backup_method"] = False
        return changes
