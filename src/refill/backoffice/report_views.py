"""The reports page: sales, auto-renew, lines, refill PINs and promotion cost for a range of days
and a market, each as a table, a chart and a CSV file. The views only read the filters and hand
them on: the queries are in ``reports``, the page's sections in ``report_sections``, the SVG charts
in ``charts`` and the CSV columns in ``report_columns``.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refill.catalog.models import Market
from refill.customers.staff import require_perm
from refill.ops.safetext import csv_response

from . import report_columns, reports
from . import report_sections as sections

PERMISSION = "backoffice.view_reports"
DEFAULT_DAYS = 30
MAX_DAYS = 366


# Filters ----------------------------------------------------------------------------------------


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))
    market = forms.ModelChoiceField(
        label=gettext_lazy("Market"),
        queryset=Market.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All markets"),
    )

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                self.add_error("date_to", _("The last day comes before the first."))
            elif (date_to - date_from).days >= MAX_DAYS:
                self.add_error("date_to", _("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        return cleaned


def _filter_form(request: HttpRequest) -> ReportFilterForm:
    """The filters as asked, the days missing filled in: the last 30 days up to today, in the
    chosen market's time zone (UTC for all markets)."""
    market_pk = request.GET.get("market", "")
    market = Market.objects.filter(pk=market_pk).first() if market_pk.isdigit() else None
    today = timezone.localdate(timezone=market.zone if market else UTC)
    data = {"date_from": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), "date_to": today.isoformat()}
    data.update({name: request.GET[name] for name in ("date_from", "date_to", "market") if request.GET.get(name)})
    return ReportFilterForm(data)


@require_perm(PERMISSION)
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One report as CSV, for the same days and market as the page."""
    report = report_columns.REPORTS.get(name)
    if report is None:
        raise Http404
    form = _filter_form(request)
    if not form.is_valid():
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    date_from, date_to, market = (form.cleaned_data[key] for key in ("date_from", "date_to", "market"))
    suffix = f"-{market.code}" if market else ""
    response, writer = csv_response(f"report-{name}-{date_from}-{date_to}{suffix}.csv")
    writer.writerows(report_columns.report_table(report, date_from, date_to, market))
    return response


@require_perm(PERMISSION)
def reports_view(request: HttpRequest) -> HttpResponse:
    """Every report for the chosen days and market, each with its charts, table and CSV link."""
    form = _filter_form(request)
    context: dict = {"form": form}
    if form.is_valid():
        date_from, date_to, market = (form.cleaned_data[key] for key in ("date_from", "date_to", "market"))
        days = sections.report_days(date_from, date_to)
        query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        if market:
            query["market"] = market.pk
        context.update(
            market=market,
            date_from=date_from,
            date_to=date_to,
            query=urlencode(query),
            renewals=sections.renewals_section(reports.renewals_revenue(date_from, date_to, market), days),
            autorenew=sections.autorenew_section(
                reports.autorenew_outcomes(date_from, date_to, market),
                reports.autorenew_declines(date_from, date_to, market),
                days,
            ),
            lines=sections.lines_section(reports.lines_by_status(date_from, date_to, market)),
            expiries=sections.expiries_section(reports.upcoming_expiries(date_from, date_to, market)),
            vouchers=sections.vouchers_section(reports.vouchers_issued_redeemed(date_from, date_to, market), days),
            promotions=sections.promotions_section(reports.promotion_costs(date_from, date_to, market)),
        )
    return render(request, "backoffice/reports.html", context, status=200 if form.is_valid() else 400)
