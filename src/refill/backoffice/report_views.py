"""The reports page: sales, auto-renew, lines, refill PINs and promotion cost for a range of days
and a market, each as a table, a chart and a CSV file.

Charts are SVG drawn here and written out by a template: no script, and no style attribute (the
content security policy forbids inline styles); colours come from classes in refill.css. Each chart
is an image with a title; the table beside it is its text equivalent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refill.catalog.models import Market
from refill.domain.lifecycle import LineStatus
from refill.domain.money import quantize
from refill.formatting import money_text
from refill.lines.models import STATUS_LABELS
from refill.ops.safetext import csv_response
from refill.renewals.models import RenewalAttempt

from . import reports
from .views import require_perm

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


# The reports, their CSV columns: (key, kind). Kinds: text, int, money (in the row's currency), day, rate.
@dataclass(frozen=True)
class Report:
    rows: Callable[[date, date, Market | None], list[dict]]
    columns: tuple[tuple[str, str], ...]


REPORTS = {
    "renewals": Report(
        reports.renewals_revenue,
        (
            ("day", "day"),
            ("currency", "text"),
            ("renewals", "int"),
            ("passes", "int"),
            ("revenue", "money"),
            ("discount", "money"),
        ),
    ),
    "autorenew": Report(
        reports.autorenew_outcomes,
        (
            ("day", "day"),
            *((outcome, "int") for outcome in reports.OUTCOMES),
            ("attempts", "int"),
            ("success_rate", "rate"),
        ),
    ),
    "declines": Report(reports.autorenew_declines, (("reason", "text"), ("count", "int"))),
    "lines": Report(reports.lines_by_status, (("market", "text"), ("status", "text"), ("count", "int"))),
    "expiries": Report(
        reports.upcoming_expiries,
        (
            ("market", "text"),
            ("next_7_days", "int"),
            ("next_7_days_auto_renew", "int"),
            ("next_30_days", "int"),
            ("next_30_days_auto_renew", "int"),
        ),
    ),
    "vouchers": Report(
        reports.vouchers_issued_redeemed,
        (
            ("day", "day"),
            ("currency", "text"),
            ("issued", "int"),
            ("issued_value", "money"),
            ("redeemed", "int"),
            ("redeemed_value", "money"),
        ),
    ),
    "promotions": Report(
        reports.promotion_costs,
        (
            ("promotion", "int"),
            ("name", "text"),
            ("code", "text"),
            ("market", "text"),
            ("currency", "text"),
            ("redemptions", "int"),
            ("discount", "money"),
            ("cost", "money"),
        ),
    ),
}


def _csv_cell(row: dict, key: str, kind: str):
    value = row[key]
    if kind == "day":
        return value.isoformat()
    if kind == "money":
        return quantize(value, row["currency"])
    if kind == "rate":
        return "" if value is None else value
    if kind == "text":
        return str(value)
    return value


@require_perm(PERMISSION)
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One report as CSV, for the same days and market as the page."""
    report = REPORTS.get(name)
    if report is None:
        raise Http404
    form = _filter_form(request)
    if not form.is_valid():
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    date_from, date_to, market = (form.cleaned_data[key] for key in ("date_from", "date_to", "market"))
    suffix = f"-{market.code}" if market else ""
    response, writer = csv_response(f"report-{name}-{date_from}-{date_to}{suffix}.csv")
    writer.writerow([key for key, _kind in report.columns])
    for row in report.rows(date_from, date_to, market):
        writer.writerow([_csv_cell(row, key, kind) for key, kind in report.columns])
    return response


# Charts -----------------------------------------------------------------------------------------

WIDTH = 640
TONES = ("brand", "alt", "warn", "ok", "muted", "bad")


@dataclass
class Series:
    name: str
    values: Sequence[float | int | Decimal | None]
    tone: str = "brand"


@dataclass
class Chart:
    """What the chart template draws; coordinates already written as text (never localised)."""

    id: str
    title: str
    height: int
    width: int = WIDTH
    lines: list[dict] = field(default_factory=list)  # x1 y1 x2 y2 css
    rects: list[dict] = field(default_factory=list)  # x y width height tone title
    polylines: list[dict] = field(default_factory=list)  # points tone
    dots: list[dict] = field(default_factory=list)  # cx cy tone title
    texts: list[dict] = field(default_factory=list)  # x y anchor css text transform
    legend: list[Series] = field(default_factory=list)  # shown beside the chart when more than one


def _n(value: float) -> str:
    return f"{value:.1f}"


def _scale(top: float, integer: bool) -> tuple[float, float]:
    """A round axis maximum at or above ``top`` and a round step dividing it in about four."""
    if top <= 0:
        return (4.0, 1.0) if integer else (1.0, 0.25)
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    return step * math.ceil(top / step - 1e-9), step


def _tick_text(value: float, step: float) -> str:
    places = 0 if float(step).is_integer() else 2
    return number_format(round(value, places), decimal_pos=places, force_grouping=True)


def time_chart(
    chart_id: str,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    y_label: str,
    kind: str = "bars",
    integer: bool = False,
    top: float | None = None,
    value_text: Callable[[float | int | Decimal], str] = str,
) -> Chart:
    """Values per day: stacked bars, or one line per series (gaps where a value is None)."""
    height, left, right, upper, lower = 240, 64.0, WIDTH - 16.0, 12.0, 240 - 44.0
    chart = Chart(id=chart_id, title=title, height=height)
    if kind == "bars":
        highest = max((sum(float(s.values[i] or 0) for s in series) for i in range(len(days))), default=0)
    else:
        highest = max((float(v) for s in series for v in s.values if v is not None), default=0)
    axis_top, step = _scale(top if top is not None else highest, integer)

    def y_of(value: float) -> float:
        return lower - (lower - upper) * value / axis_top

    tick = 0.0
    while tick <= axis_top + 1e-9:
        y = y_of(tick)
        chart.lines.append({"x1": _n(left), "y1": _n(y), "x2": _n(right), "y2": _n(y), "css": "chart-grid"})
        chart.texts.append(
            {"x": _n(left - 6), "y": _n(y + 4), "anchor": "end", "css": "chart-tick", "text": _tick_text(tick, step)}
        )
        tick += step
    slot = (right - left) / max(len(days), 1)
    every = max(1, math.ceil(len(days) / 8))
    for index, day in enumerate(days):
        if index % every == 0:
            x = left + slot * (index + 0.5)
            chart.lines.append({"x1": _n(x), "y1": _n(lower), "x2": _n(x), "y2": _n(lower + 4), "css": "chart-axis"})
            chart.texts.append(
                {"x": _n(x), "y": _n(lower + 16), "anchor": "middle", "css": "chart-tick", "text": f"{day:%m-%d}"}
            )
    if kind == "bars":
        width = max(slot * 0.7, 0.5)
        for index, day in enumerate(days):
            base = 0.0
            for each in series:
                value = float(each.values[index] or 0)
                if value:
                    chart.rects.append(
                        {
                            "x": _n(left + slot * index + (slot - width) / 2),
                            "y": _n(y_of(base + value)),
                            "width": _n(width),
                            "height": _n(y_of(base) - y_of(base + value)),
                            "tone": each.tone,
                            "title": f"{day.isoformat()} · {each.name}: {value_text(each.values[index])}",
                        }
                    )
                base += value
    else:
        for each in series:
            run: list[str] = []
            for index, day in enumerate(days):
                value = each.values[index]
                if value is None:
                    if run:
                        chart.polylines.append({"points": " ".join(run), "tone": each.tone})
                    run = []
                    continue
                x, y = left + slot * (index + 0.5), y_of(float(value))
                run.append(f"{_n(x)},{_n(y)}")
                if len(days) <= 62:
                    chart.dots.append(
                        {
                            "cx": _n(x),
                            "cy": _n(y),
                            "tone": each.tone,
                            "title": f"{day.isoformat()} · {each.name}: {value_text(value)}",
                        }
                    )
            if run:
                chart.polylines.append({"points": " ".join(run), "tone": each.tone})
    chart.lines += [
        {"x1": _n(left), "y1": _n(upper), "x2": _n(left), "y2": _n(lower), "css": "chart-axis"},
        {"x1": _n(left), "y1": _n(lower), "x2": _n(right), "y2": _n(lower), "css": "chart-axis"},
    ]
    chart.texts.append(
        {"x": _n((left + right) / 2), "y": _n(height - 6), "anchor": "middle", "css": "chart-label", "text": _("Day")}
    )
    middle = (upper + lower) / 2
    chart.texts.append(
        {
            "x": "14.0",
            "y": _n(middle),
            "anchor": "middle",
            "css": "chart-label",
            "text": y_label,
            "transform": f"rotate(-90 14.0 {_n(middle)})",
        }
    )
    chart.legend = list(series) if len(series) > 1 else []
    return chart


def category_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    integer: bool = False,
    value_text: Callable[[float | int | Decimal], str] = str,
) -> Chart:
    """Horizontal bars, one group per category, one bar per series."""
    bar, gap, left, right, upper = 14.0, 10.0, 170.0, WIDTH - 80.0, 8.0
    group = bar * len(series) + 2 * (len(series) - 1) + gap
    lower = upper + group * len(categories)
    height = int(lower + 40)
    chart = Chart(id=chart_id, title=title, height=height)
    highest = max((float(v or 0) for s in series for v in s.values), default=0)
    axis_top, step = _scale(highest, integer)

    def x_of(value: float) -> float:
        return left + (right - left) * value / axis_top

    tick = 0.0
    while tick <= axis_top + 1e-9:
        x = x_of(tick)
        chart.lines.append({"x1": _n(x), "y1": _n(upper), "x2": _n(x), "y2": _n(lower), "css": "chart-grid"})
        chart.texts.append(
            {"x": _n(x), "y": _n(lower + 14), "anchor": "middle", "css": "chart-tick", "text": _tick_text(tick, step)}
        )
        tick += step
    for index, category in enumerate(categories):
        top = upper + gap / 2 + group * index
        shown = category if len(category) <= 26 else category[:25] + "…"
        middle = top + (group - gap) / 2
        chart.texts.append(
            {"x": _n(left - 6), "y": _n(middle + 4), "anchor": "end", "css": "chart-tick", "text": shown}
        )
        for position, each in enumerate(series):
            value = each.values[index]
            y = top + position * (bar + 2)
            width = x_of(float(value or 0)) - left
            chart.rects.append(
                {
                    "x": _n(left),
                    "y": _n(y),
                    "width": _n(width),
                    "height": _n(bar),
                    "tone": each.tone,
                    "title": f"{category} · {each.name}: {value_text(value or 0)}",
                }
            )
            chart.texts.append(
                {
                    "x": _n(left + width + 4),
                    "y": _n(y + bar - 3),
                    "anchor": "start",
                    "css": "chart-value",
                    "text": value_text(value or 0),
                }
            )
    chart.lines.append({"x1": _n(left), "y1": _n(upper), "x2": _n(left), "y2": _n(lower), "css": "chart-axis"})
    chart.texts.append(
        {"x": _n((left + right) / 2), "y": _n(height - 6), "anchor": "middle", "css": "chart-label", "text": x_label}
    )
    chart.legend = list(series) if len(series) > 1 else []
    return chart


# The page ---------------------------------------------------------------------------------------


def _days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]


def _per_day(rows: list[dict], days: list[date], key: str, empty=0) -> list:
    found = {row["day"]: row[key] for row in rows}
    return [found.get(day, empty) for day in days]


def _money_of(currency: str) -> Callable:
    return lambda amount: money_text(amount, currency)


def _by_currency(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["currency"]].append(row)
    return dict(sorted(grouped.items()))


def _renewals(rows: list[dict], days: list[date]) -> dict:
    currencies = _by_currency(rows)
    charts = [
        time_chart(
            f"revenue-{currency.lower()}",
            _("Renewal revenue per day (%(currency)s)") % {"currency": currency},
            days,
            [
                Series(_("Revenue"), _per_day(found, days, "revenue")),
                Series(_("Discounts"), _per_day(found, days, "discount"), "warn"),
            ],
            y_label=currency,
            value_text=_money_of(currency),
        )
        for currency, found in currencies.items()
    ]
    if rows:
        counts = [
            Series(currency, _per_day(found, days, "renewals"), TONES[i % len(TONES)])
            for i, (currency, found) in enumerate(currencies.items())
        ]
        charts.insert(
            0,
            time_chart(
                "renewals",
                _("Paid renewals per day"),
                days,
                counts,
                y_label=_("Renewals"),
                kind="lines",
                integer=True,
            ),
        )
    totals = [
        {
            "currency": currency,
            "renewals": sum(row["renewals"] for row in found),
            "passes": sum(row["passes"] for row in found),
            "revenue": sum((row["revenue"] for row in found), Decimal(0)),
            "discount": sum((row["discount"] for row in found), Decimal(0)),
        }
        for currency, found in currencies.items()
    ]
    return {"rows": rows, "totals": totals, "charts": charts}


OUTCOME_TONES = {"succeeded": "ok", "failed": "bad", "over_cap": "warn", "skipped": "muted", "pending": "brand"}


def _outcome_labels() -> dict[str, str]:
    labels = {value: str(label) for value, label in RenewalAttempt.Status.choices}
    return {
        "succeeded": labels["succeeded"],
        "failed": labels["failed"],
        "over_cap": labels["over_cap"],
        "skipped": labels["skipped"],
        "pending": _("Not yet made"),
    }


def _autorenew(rows: list[dict], declines: list[dict], days: list[date]) -> dict:
    labels = _outcome_labels()
    totals = {outcome: sum(row[outcome] for row in rows) for outcome in reports.OUTCOMES}
    rate = reports.success_rate(totals["succeeded"], totals["failed"])
    charts = []
    if rows:
        charts.append(
            time_chart(
                "autorenew",
                _("Auto-renew attempts per day by outcome"),
                days,
                [
                    Series(labels[outcome], _per_day(rows, days, outcome), tone)
                    for outcome, tone in OUTCOME_TONES.items()
                ],
                y_label=_("Attempts"),
                integer=True,
            )
        )
        charts.append(
            time_chart(
                "autorenew-rate",
                _("Auto-renew success rate per day"),
                days,
                [Series(_("Success rate"), _per_day(rows, days, "success_rate", None), "ok")],
                y_label="%",
                kind="lines",
                top=100,
                value_text=lambda value: f"{value} %",
            )
        )
    decline_charts = []
    if declines:
        decline_charts.append(
            category_chart(
                "declines",
                _("Why auto-renew attempts failed"),
                [row["reason"] or "?" for row in declines],
                [Series(_("Failed attempts"), [row["count"] for row in declines], "bad")],
                x_label=_("Failed attempts"),
                integer=True,
            )
        )
    return {
        "rows": rows,
        "declines": declines,
        "outcomes": [(outcome, labels[outcome]) for outcome in reports.OUTCOMES],
        "totals": {**totals, "attempts": sum(totals.values()), "success_rate": rate},
        "charts": charts,
        "decline_charts": decline_charts,
    }


def _status_label(status: str) -> str:
    try:
        return str(STATUS_LABELS[LineStatus(status)])
    except ValueError:
        return status


def _lines(rows: list[dict]) -> dict:
    for row in rows:
        row["status_label"] = _status_label(row["status"])
    statuses = [status.value for status in LineStatus if any(row["status"] == status for row in rows)]
    markets = list(dict.fromkeys(row["market_name"] for row in rows))
    counts = {(row["market_name"], row["status"]): row["count"] for row in rows}
    charts = []
    if rows:
        charts.append(
            category_chart(
                "lines",
                _("Lines by status now"),
                [_status_label(status) for status in statuses],
                [
                    Series(market, [counts.get((market, status), 0) for status in statuses], TONES[i % len(TONES)])
                    for i, market in enumerate(markets)
                ],
                x_label=_("Lines"),
                integer=True,
            )
        )
    return {"rows": rows, "charts": charts}


def _expiries(rows: list[dict]) -> dict:
    charts = []
    if rows:
        names = [row["market_name"] for row in rows]
        charts.append(
            category_chart(
                "expiries",
                _("Lines whose period ends in the next 7 and 30 days"),
                names,
                [
                    Series(_("Next 7 days"), [row["next_7_days"] for row in rows], "warn"),
                    Series(_("Next 7 days, auto-renew on"), [row["next_7_days_auto_renew"] for row in rows], "ok"),
                    Series(_("Next 30 days"), [row["next_30_days"] for row in rows], "brand"),
                    Series(_("Next 30 days, auto-renew on"), [row["next_30_days_auto_renew"] for row in rows], "alt"),
                ],
                x_label=_("Lines"),
                integer=True,
            )
        )
    return {"rows": rows, "charts": charts}


def _vouchers(rows: list[dict], days: list[date]) -> dict:
    charts = [
        time_chart(
            f"vouchers-{currency.lower()}",
            _("Refill PINs issued and redeemed per day (%(currency)s face value)") % {"currency": currency},
            days,
            [
                Series(_("Issued"), _per_day(found, days, "issued_value"), "brand"),
                Series(_("Redeemed"), _per_day(found, days, "redeemed_value"), "ok"),
            ],
            y_label=currency,
            kind="lines",
            value_text=_money_of(currency),
        )
        for currency, found in _by_currency(rows).items()
    ]
    return {"rows": rows, "charts": charts}


def _promotions(rows: list[dict]) -> dict:
    charts = [
        category_chart(
            f"promotions-{currency.lower()}",
            _("Promotion cost (%(currency)s)") % {"currency": currency},
            [row["name"] for row in found],
            [
                Series(_("Cost"), [row["cost"] for row in found], "warn"),
                Series(_("Discounts"), [row["discount"] for row in found], "brand"),
            ],
            x_label=currency,
            value_text=_money_of(currency),
        )
        for currency, found in _by_currency(rows).items()
    ]
    return {"rows": rows, "charts": charts}


@require_perm(PERMISSION)
def reports_view(request: HttpRequest) -> HttpResponse:
    """Every report for the chosen days and market, each with its charts, table and CSV link."""
    form = _filter_form(request)
    context: dict = {"form": form}
    if form.is_valid():
        date_from, date_to, market = (form.cleaned_data[key] for key in ("date_from", "date_to", "market"))
        days = _days(date_from, date_to)
        query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        if market:
            query["market"] = market.pk
        context.update(
            market=market,
            date_from=date_from,
            date_to=date_to,
            query=urlencode(query),
            renewals=_renewals(reports.renewals_revenue(date_from, date_to, market), days),
            autorenew=_autorenew(
                reports.autorenew_outcomes(date_from, date_to, market),
                reports.autorenew_declines(date_from, date_to, market),
                days,
            ),
            lines=_lines(reports.lines_by_status(date_from, date_to, market)),
            expiries=_expiries(reports.upcoming_expiries(date_from, date_to, market)),
            vouchers=_vouchers(reports.vouchers_issued_redeemed(date_from, date_to, market), days),
            promotions=_promotions(reports.promotion_costs(date_from, date_to, market)),
        )
    return render(request, "backoffice/reports.html", context, status=200 if form.is_valid() else 400)
