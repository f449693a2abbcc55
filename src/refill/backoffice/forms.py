import copy
import zoneinfo
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refill.catalog.models import Market, Plan
from refill.domain.money import MINOR_UNITS
from refill.esim.inventory import MAX_BYTES
from refill.orders.models import RefundReason
from refill.promotions.models import Promotion
from refill.promotions.services import normalise_code
from refill.promotions.staff import (
    DUPLICATE_CODE,
    PROMOTION_FIELDS,
    PROMOTION_GIVES,
    PROMOTION_LOCKED,
    budget_below_spent,
    limit_below_redeemed,
)


class VoucherGenerateForm(forms.Form):
    count = forms.IntegerField(label=_("How many PINs"), min_value=1, max_value=10_000, initial=100)
    face_value = forms.DecimalField(label=_("Face value"), min_value=0, max_digits=10, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in sorted(MINOR_UNITS)])
    expires_in_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=90)
    note = forms.CharField(label=pgettext_lazy("staff note", "Note"), max_length=200, required=False)


class VoucherImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), required=False)
    pasted = forms.CharField(label=_("or paste CSV"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    note = forms.CharField(label=pgettext_lazy("staff note", "Note"), max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("pasted"):
            raise forms.ValidationError(_("Choose a CSV file or paste its contents."))
        upload = cleaned.get("file")
        if upload is not None and upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return cleaned

    def csv_text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return upload.read().decode("utf-8-sig", errors="replace")
        return self.cleaned_data["pasted"]


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=10, decimal_places=2)
    destination = forms.ChoiceField(
        label=_("Refund to"),
        choices=[("original", _("Back to how it was paid")), ("wallet", _("The customer's wallet"))],
    )
    # The customer reads the reason in their own language: a fixed list, plus staff's own note
    # (shown to them as "Note from our staff"). "Other" needs the note.
    reason_code = forms.ChoiceField(label=_("Reason"), choices=RefundReason.choices)
    note = forms.CharField(
        label=_("Note to the customer (optional)"),
        max_length=300,
        required=False,
        help_text=_("Shown to the customer as a note from our staff, as you write it."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def clean(self):
        data = super().clean()
        if data.get("reason_code") == RefundReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why in a note when the reason is not in the list."))
        return data


class AdjustmentForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in sorted(MINOR_UNITS)])
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=10,
        decimal_places=2,
        help_text=_("Positive credits the wallet; negative takes back."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class ProfileImportForm(forms.Form):
    file = forms.FileField(label=_("Vendor CSV file"))
    vendor = forms.CharField(label=_("Vendor"), max_length=100, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


# Promotions -------------------------------------------------------------------------------------

CHANNELS = [
    ("web", _("Website")),
    ("app", _("App")),
    ("shop", _("Shop counter")),
    ("api", _("Partner API")),
    ("auto", _("Auto-renew")),
    ("fleet", _("Business bulk renewal")),
]
PERCENT_KINDS = (Promotion.Kind.PERCENT_OFF, Promotion.Kind.FIRST_ORDER)
# What each kind gives, with the value the other kinds keep (so a promotion never carries a
# leftover percentage or bonus the offer rules would not use anyway).
GIVES_DEFAULTS = {
    "percent": Decimal(0),
    "amount": Decimal(0),
    "bonus_data_mb": 0,
    "bonus_voice_minutes": 0,
    "bonus_sms": 0,
    "buy_periods": 0,
    "free_periods": 0,
    "addon_plan": None,
}
KIND_FIELDS = {
    Promotion.Kind.PERCENT_OFF: ("percent",),
    Promotion.Kind.FIRST_ORDER: ("percent",),
    Promotion.Kind.AMOUNT_OFF: ("amount",),
    Promotion.Kind.BONUS_ALLOWANCE: ("bonus_data_mb", "bonus_voice_minutes", "bonus_sms"),
    Promotion.Kind.EXTRA_PERIODS: ("buy_periods", "free_periods"),
    Promotion.Kind.FREE_ADDON: ("addon_plan",),
}
WINDOW_FORMAT = "%Y-%m-%dT%H:%M"


class MarketChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Market) -> str:
        return _("%(market)s (%(currency)s, %(zone)s)") % {
            "market": obj.display_name,
            "currency": obj.currency,
            "zone": obj.time_zone,
        }


def plan_label(plan: Plan) -> str:
    """A plan in a staff pick list: its market, name and code, punctuated in the reader's language."""
    return _("%(market)s: %(plan)s (%(code)s)") % {
        "market": plan.market.display_name,
        "plan": plan.name,
        "code": plan.code,
    }


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return plan_label(obj)


class PlanMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return plan_label(obj)


def _window_field(label, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WINDOW_FORMAT),
        help_text=_("In the market's time zone."),
    )


class PromotionForm(forms.ModelForm):
    """A promotion as staff create and edit it. The window is typed and shown in the market's time
    zone and stored in UTC. Once a promotion has redemptions, what it gives is shown but can no longer
    be changed (``promotions.staff.PROMOTION_GIVES``)."""

    market = MarketChoiceField(label=_("Market"), queryset=Market.objects.order_by("name"))
    code = forms.CharField(
        label=pgettext_lazy("promotion", "Code"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to apply the promotion automatically to every order it fits."),
    )
    addon_plan = PlanChoiceField(
        label=_("Free add-on"),
        queryset=Plan.objects.filter(kind=Plan.Kind.ADDON).select_related("market"),
        required=False,
    )
    starts_at = _window_field(_("Starts"), required=True)
    ends_at = _window_field(_("Ends"), required=False)
    plans = PlanMultipleChoiceField(
        label=_("Plans"),
        queryset=Plan.objects.select_related("market"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every plan of the market."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=CHANNELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every channel."),
    )
    segments = forms.CharField(
        label=_("Customer segments"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, for example: student, business. Empty: every customer."),
    )

    class Meta:
        model = Promotion
        fields = [*PROMOTION_FIELDS, "plans"]
        labels = {
            "name_en": _("Name in English"),
            "name_zh_hans": _("Name in Chinese"),
            "kind": _("Kind"),
            "priority": _("Priority"),
            "exclusive": _("Exclusive (never combined with another promotion)"),
            "percent": _("Percent off"),
            "amount": _("Amount off (market currency)"),
            "bonus_data_mb": _("Bonus data (MB)"),
            "bonus_voice_minutes": _("Bonus voice minutes"),
            "bonus_sms": _("Bonus SMS"),
            "buy_periods": _("For every N periods paid"),
            "free_periods": _("M periods free"),
            "paused": _("Paused"),
            "min_periods": _("Minimum periods ordered"),
            "new_customers_only": _("New customers only (no paid order yet)"),
            "first_order_only": _("A number's first order only"),
            "limit_total": _("Limit in total"),
            "limit_per_customer": _("Limit per customer"),
            "limit_per_line": _("Limit per number"),
            "budget": _("Budget (market currency)"),
        }
        help_texts = {
            "priority": _("Lower goes first when promotions stack."),
            "limit_total": _("Empty: no limit. Orders awaiting payment count."),
            "budget": _("Discounts plus the value of free periods and add-ons. Empty: no budget."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("min_periods", "limit_total", "limit_per_customer", "limit_per_line"):
            self.fields[name].validators.append(MinValueValidator(1))
            self.fields[name].widget.attrs["min"] = 1
        self.fields["budget"].validators.append(MinValueValidator(0))
        self.fields["budget"].widget.attrs["min"] = 0
        self.fields["percent"].validators += [MinValueValidator(0), MaxValueValidator(100)]
        self.fields["percent"].widget.attrs.update(min=0, max=100)
        self.fields["percent"].help_text = _("Percent off and first order: above 0, at most 100.")
        for name in GIVES_DEFAULTS:
            # What the chosen kind does not use may stay empty.
            self.fields[name].required = False
        instance = self.instance
        self.redeemed = instance.pk is not None and instance.redemptions.exists()
        if instance.pk is not None:
            zone = instance.market.zone
            self.initial["starts_at"] = timezone.localtime(instance.starts_at, zone).replace(tzinfo=None)
            if instance.ends_at is not None:
                self.initial["ends_at"] = timezone.localtime(instance.ends_at, zone).replace(tzinfo=None)
            self.initial["segments"] = ", ".join(instance.segments)
            self.initial["channels"] = list(instance.channels)
            for name in ("starts_at", "ends_at"):
                self.fields[name].help_text = _("In the market's time zone (%(zone)s).") % {"zone": zone.key}
        if self.redeemed:
            for name in PROMOTION_GIVES:
                self.fields[name].disabled = True

    def full_clean(self) -> None:
        # Django reads a typed date and time in the current time zone: make that the market's, so
        # "1 March 00:00" in Shanghai is stored as 28 February 16:00 UTC.
        with timezone.override(self._market_zone()):
            super().full_clean()

    def _market_zone(self) -> zoneinfo.ZoneInfo:
        if self.instance.pk is not None and self.fields["market"].disabled:
            return self.instance.market.zone
        raw = self.data.get(self.add_prefix("market"))
        market = Market.objects.filter(pk=raw).first() if str(raw or "").isdigit() else None
        if market is None and self.instance.pk is not None:
            market = self.instance.market
        return market.zone if market is not None else zoneinfo.ZoneInfo("UTC")

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data.get("code") or "")
        if len(code) > Promotion._meta.get_field("code").max_length:
            raise forms.ValidationError(_("A code has at most 32 letters and digits."))
        return code

    def clean_starts_at(self):
        return self._unless_unchanged("starts_at")

    def clean_ends_at(self):
        return self._unless_unchanged("ends_at")

    def _unless_unchanged(self, name: str):
        # The page shows the window to the minute: the same minute sent back keeps the stored
        # value, seconds and all, so saving another change does not move the window.
        value, stored = self.cleaned_data.get(name), getattr(self.instance, name)
        if value is not None and stored is not None and value == stored.replace(second=0, microsecond=0):
            return stored
        return value

    def clean_segments(self) -> list[str]:
        # Compared with customers' segments in lower case (Customer.segment_set).
        segments = (part.strip().lower() for part in (self.cleaned_data.get("segments") or "").split(","))
        return list(dict.fromkeys(segment for segment in segments if segment))

    def clean_channels(self) -> list[str]:
        chosen = set(self.cleaned_data.get("channels") or [])
        return [value for value, _label in CHANNELS if value in chosen]

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, default in GIVES_DEFAULTS.items():
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = default
        if self.redeemed:
            for name in PROMOTION_GIVES:
                if self._changed_despite_lock(name):
                    self.add_error(name, PROMOTION_LOCKED)
        market = cleaned.get("market")
        kind = cleaned.get("kind")
        if kind and not self.redeemed:
            self._clean_gives(cleaned, kind, market)
        if market is not None and "code" in cleaned and cleaned["code"]:
            taken = Promotion.objects.filter(market=market, code=cleaned["code"]).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("code", DUPLICATE_CODE)
        if market is not None and any(plan.market_id != market.pk for plan in cleaned.get("plans") or []):
            self.add_error("plans", _("Choose plans of the promotion's market only."))
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must be after the start."))
        limit_total = cleaned.get("limit_total")
        if limit_total is not None and limit_total < self.instance.redeemed:
            self.add_error("limit_total", limit_below_redeemed(self.instance.redeemed))
        budget = cleaned.get("budget")
        if budget is not None and self.instance.pk is not None and budget < self.instance.spent:
            self.add_error("budget", budget_below_spent(self.instance.spent, self.instance.market.currency))
        return cleaned

    def _clean_gives(self, cleaned: dict, kind: str, market: Market | None) -> None:
        def refuse(name: str, message) -> None:
            # A value the field itself refused (not a number, over 100) is reported once.
            if name not in self.errors:
                self.add_error(name, message)

        if kind in PERCENT_KINDS and not (Decimal(0) < (cleaned.get("percent") or 0) <= 100):
            refuse("percent", _("Enter a percentage above 0 and at most 100."))
        if kind == Promotion.Kind.AMOUNT_OFF and not (cleaned.get("amount") or 0) > 0:
            refuse("amount", _("Enter an amount above 0."))
        if kind == Promotion.Kind.BONUS_ALLOWANCE and not any(
            (cleaned.get(name) or 0) > 0 for name in ("bonus_data_mb", "bonus_voice_minutes", "bonus_sms")
        ):
            refuse("bonus_data_mb", _("Give at least one bonus: data, voice minutes or SMS."))
        if kind == Promotion.Kind.EXTRA_PERIODS:
            if not (cleaned.get("buy_periods") or 0) >= 1:
                refuse("buy_periods", _("Enter how many periods are paid for, at least 1."))
            if not (cleaned.get("free_periods") or 0) >= 1:
                refuse("free_periods", _("Enter how many periods are free, at least 1."))
        if kind == Promotion.Kind.FREE_ADDON:
            addon = cleaned.get("addon_plan")
            if addon is None:
                refuse("addon_plan", _("Choose the add-on to give."))
            elif market is not None and addon.market_id != market.pk:
                refuse("addon_plan", _("Choose an add-on of the promotion's market."))
        # Only what the kind gives is kept.
        for name, default in GIVES_DEFAULTS.items():
            if name not in KIND_FIELDS[Promotion.Kind(kind)] and name in cleaned:
                cleaned[name] = default

    def _changed_despite_lock(self, name: str) -> bool:
        """Whether the request tries to change a field that is shown read-only (a browser sends none
        of them; only a stale or hand-made form does)."""
        field = self.fields[name]
        html_name = self.add_prefix(name)
        if field.widget.value_omitted_from_data(self.data, self.files, html_name):
            return False
        sent = field.widget.value_from_datadict(self.data, self.files, html_name)
        initial = self.get_initial_for_field(field, name)
        if name == "code":
            return normalise_code(sent or "") != (initial or "")
        probe = copy.copy(field)
        probe.disabled = False
        return probe.has_changed(initial, sent)

    def promotion_values(self) -> dict:
        """The cleaned values of the promotion's own columns (the plans are apart)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "plans"}
