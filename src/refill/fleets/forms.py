from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refill.catalog.models import Plan
from refill.orders.pricing import RENEWABLE_PLAN_KINDS

from .models import BulkJob


def plan_choices(customer):
    markets = customer.lines.values_list("market_id", flat=True).distinct()
    return Plan.objects.filter(market_id__in=markets, is_active=True, kind__in=RENEWABLE_PLAN_KINDS).select_related(
        "market"
    )


class BulkJobForm(forms.Form):
    """A bulk job: what to do, and the numbers (selected, typed, or in a CSV file)."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    action = forms.ChoiceField(label=_("What to do"), choices=BulkJob.Action.choices)
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.none(),
        required=False,
        empty_label=_("Each line's own plan"),
        help_text=_(
            "For a renewal, leave empty to renew each line onto its own plan (or the plan it waits to change to)."
        ),
    )
    periods = forms.IntegerField(
        label=pgettext_lazy("number of periods", "Periods"), min_value=1, max_value=12, initial=1
    )
    numbers = forms.CharField(
        label=_("Numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "+1 555 010 0001"}),
        help_text=_("One per line, or separated by commas."),
    )
    csv_file = forms.FileField(
        label=_("Or a CSV file of numbers"),
        required=False,
        help_text=_("A column headed “number”, or the numbers in the first column."),
    )

    def __init__(self, *args, customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plan_choices(customer)
        self.fields["plan"].label_from_instance = lambda plan: f"{plan.name} ({plan.market.code.upper()})"


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=60)
