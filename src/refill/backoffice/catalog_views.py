"""Catalog pages: the markets and their plans with the prices in force; a market's settings, a
plan's settings and a new price version. Each form has two buttons: Preview shows what the change
would do to the lines and orders there are (``catalog_previews``), Save saves it with a
reason through the catalog's services (which write the audit row). No script is needed."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refill.catalog import selectors, services
from refill.catalog.models import PAY_METHOD_NAMES, Market, Plan
from refill.customers.staff import require_perm

from . import catalog_previews
from .forms import WINDOW_FORMAT

HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]


def _reason_field() -> forms.CharField:
    # Required to save, not to preview: the browser asks for it on Save only (Preview has
    # formnovalidate), and the service refuses a save without one.
    return forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=services.REASON_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"required": True}),
        help_text=gettext_lazy("Needed to save; kept in the audit log."),
    )


def _count_field(label, *, required: bool = True, help_text="") -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, required=required, help_text=help_text)


class CatalogForm(forms.Form):
    # Service field name -> form field name, where they differ.
    renamed: dict[str, str] = {}

    def add_service_errors(self, error: ValidationError) -> None:
        """The service's per-field errors on the form's fields (others above the form)."""
        for name, errors in error.error_dict.items():
            field = self.renamed.get(name, name)
            self.add_error(field if field in self.fields else None, errors)


class MarketSettingsForm(CatalogForm):
    name_zh_hans = forms.CharField(
        label=gettext_lazy("Name in Chinese"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Shown to Chinese readers; empty: the country's Chinese name."),
    )
    tax_percent = forms.DecimalField(
        label=gettext_lazy("Tax rate (%)"), min_value=0, max_value=100, max_digits=6, decimal_places=2
    )
    tax_inclusive = forms.BooleanField(label=gettext_lazy("Prices include tax"), required=False)
    grace_days = _count_field(
        gettext_lazy("Grace period (days)"),
        help_text=gettext_lazy("After the period ends: incoming calls and SMS only."),
    )
    suspend_days = _count_field(gettext_lazy("Suspended (days)"), help_text=gettext_lazy("After the grace period."))
    reactivation_days = _count_field(
        gettext_lazy("Reactivation window (days)"),
        help_text=gettext_lazy("After the suspension: the number can still be renewed."),
    )
    aging_days = _count_field(
        gettext_lazy("Number aging (days)"),
        help_text=gettext_lazy("Before a released number is given to someone else; at least 45."),
    )
    auto_renew_lead_hours = _count_field(
        gettext_lazy("Auto-renew lead (hours)"), help_text=gettext_lazy("How long before the end auto-renew is tried.")
    )
    reminder_days = forms.CharField(
        label=gettext_lazy("Expiry reminders (days before the end)"),
        max_length=40,
        help_text=gettext_lazy("Up to five whole numbers from 1 to 60, separated by commas, for example: 7, 3, 1."),
    )
    quiet_start_hour = forms.TypedChoiceField(label=gettext_lazy("SMS quiet hours from"), choices=HOURS, coerce=int)
    quiet_end_hour = forms.TypedChoiceField(
        label=gettext_lazy("SMS quiet hours until"),
        choices=HOURS,
        coerce=int,
        help_text=gettext_lazy(
            "In each customer's time zone; an SMS due meanwhile waits. The same hour twice: no quiet hours."
        ),
    )
    reason = _reason_field()
    renamed = {"tax_rate": "tax_percent"}

    @classmethod
    def initial_for(cls, market: Market) -> dict:
        initial = {name: getattr(market, name) for name in services.MARKET_SETTINGS if name != "tax_rate"}
        initial["tax_percent"] = market.tax_percent
        initial["reminder_days"] = ", ".join(str(day) for day in market.reminder_days)
        return initial

    def clean_reminder_days(self) -> list[int]:
        text = self.cleaned_data["reminder_days"]
        parts = [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise forms.ValidationError(_("Give whole numbers of days, separated by commas."))
        return [int(part) for part in parts]

    def values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in services.MARKET_SETTINGS if name != "tax_rate"}
        values["tax_rate"] = self.cleaned_data["tax_percent"] / Decimal(100)
        return values


class PlanSettingsForm(CatalogForm):
    name_en = forms.CharField(label=gettext_lazy("Name in English"), max_length=100)
    name_zh_hans = forms.CharField(label=gettext_lazy("Name in Chinese"), max_length=100)
    is_active = forms.BooleanField(label=gettext_lazy("On sale"), required=False)
    max_prepaid_periods = forms.IntegerField(label=gettext_lazy("Periods that may be paid ahead"), min_value=1)
    data_mb = _count_field(gettext_lazy("Data (MB)"), required=False, help_text=gettext_lazy("Empty: unlimited."))
    voice_minutes = _count_field(
        gettext_lazy("Voice minutes"), required=False, help_text=gettext_lazy("Empty: unlimited.")
    )
    sms = _count_field(gettext_lazy("SMS"), required=False, help_text=gettext_lazy("Empty: unlimited."))
    rollover = forms.ChoiceField(label=gettext_lazy("Unused allowance"), choices=Plan.Rollover.choices)
    reason = _reason_field()

    @classmethod
    def initial_for(cls, plan: Plan) -> dict:
        return {name: getattr(plan, name) for name in services.PLAN_SETTINGS}

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.PLAN_SETTINGS}


class PriceForm(CatalogForm):
    amount = forms.DecimalField(label=gettext_lazy("New price"), min_value=0, max_digits=12, decimal_places=4)
    valid_from = forms.DateTimeField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WINDOW_FORMAT),
    )
    reason = _reason_field()

    def __init__(self, *args, zone: zoneinfo.ZoneInfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["valid_from"].help_text = _("In the market's time zone (%(zone)s). Empty: from now.") % {
            "zone": zone.key
        }

    def full_clean(self) -> None:
        # A typed date and time is read in the market's time zone, like the promotion windows.
        with timezone.override(self.zone):
            super().full_clean()

    def starts(self):
        return self.cleaned_data.get("valid_from") or timezone.now()


def _action(request: HttpRequest) -> str:
    return "save" if request.POST.get("action") == "save" else "preview"


def _page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(request, template, context, status=400 if context["form"].errors else 200)


@require_perm("catalog.view_market")
def catalog_view(request: HttpRequest) -> HttpResponse:
    markets = [(market, rows, _ways_to_pay(market)) for market, rows in selectors.markets_overview()]
    return render(request, "backoffice/catalog.html", {"markets": markets})


def _ways_to_pay(market: Market) -> dict:
    """A market's ways to pay as the overview lists them: those switched on in order, those off,
    and whether they are the market's own setting or Refill's defaults."""
    settings = selectors.market_pay_methods(market)
    return {
        "on": [PAY_METHOD_NAMES[setting.method] for setting in settings if setting.enabled],
        "off": [PAY_METHOD_NAMES[setting.method] for setting in settings if not setting.enabled],
        "default": selectors.market_pay_methods_on(market) is None,
    }


@require_perm("catalog.change_market")
def market_settings_view(request: HttpRequest, pk: int) -> HttpResponse:
    market = get_object_or_404(Market, pk=pk)
    form = MarketSettingsForm(request.POST or None, initial=MarketSettingsForm.initial_for(market))
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            if _action(request) == "save":
                changed = services.market_settings_update(
                    market=market, actor=request.user, reason=form.cleaned_data["reason"], **form.values()
                )
                messages.success(request, _("The market's settings were saved.") if changed else _("Nothing changed."))
                return redirect("backoffice:catalog")
            proposed, changed = services.market_settings_proposed(market=market, **form.values())
            preview = catalog_previews.market_settings_preview(market=market, proposed=proposed, changed=changed)
        except ValidationError as exc:
            form.add_service_errors(exc)
    context = {"market": market, "form": form, "preview": preview}
    return _page(request, "backoffice/catalog_market.html", context)


@require_perm("catalog.change_plan")
def plan_settings_view(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("market"), pk=pk)
    form = PlanSettingsForm(request.POST or None, initial=PlanSettingsForm.initial_for(plan))
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            if _action(request) == "save":
                changed = services.plan_update(
                    plan=plan, actor=request.user, reason=form.cleaned_data["reason"], **form.values()
                )
                messages.success(request, _("The plan was saved.") if changed else _("Nothing changed."))
                return redirect("backoffice:catalog")
            proposed, changed = services.plan_settings_proposed(plan=plan, **form.values())
            preview = catalog_previews.plan_preview(plan=plan, proposed=proposed, changed=changed)
        except ValidationError as exc:
            form.add_service_errors(exc)
    return _page(request, "backoffice/catalog_plan.html", {"plan": plan, "form": form, "preview": preview})


@require_perm("catalog.add_planprice")
def plan_price_view(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("market"), pk=pk)
    market = plan.market
    form = PriceForm(request.POST or None, zone=market.zone)
    preview = None
    if request.method == "POST" and form.is_valid():
        amount, starts = form.cleaned_data["amount"], form.starts()
        try:
            if _action(request) == "save":
                price = services.plan_price_add(
                    plan=plan, amount=amount, valid_from=starts, actor=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("Price version %(version)s was added.") % {"version": price.version})
                return redirect("backoffice:catalog")
            amount = services.plan_price_check(plan=plan, amount=amount, valid_from=starts)
            preview = catalog_previews.price_preview(plan=plan, amount=amount, valid_from=starts)
        except ValidationError as exc:
            form.add_service_errors(exc)
    prices = plan.prices.filter(currency=market.currency).order_by("-version")
    context = {"plan": plan, "market": market, "form": form, "preview": preview, "prices": prices}
    return _page(request, "backoffice/catalog_price.html", context)
