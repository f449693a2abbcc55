"""The reports page's sections: each report's rows (from ``reports``) turned into what the page
shows, its charts (``charts``), totals and table rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from refill.domain.lifecycle import LineStatus
from refill.formatting import money_text, rate_text
from refill.lines.models import STATUS_LABELS
from refill.orders.errors import reason_label
from refill.renewals.models import RenewalAttempt

from . import reports
from .charts import TONES, Series, category_chart, time_chart


def report_days(date_from: date, date_to: date) -> list[date]:
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


def renewals_section(rows: list[dict], days: list[date]) -> dict:
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


def autorenew_section(rows: list[dict], declines: list[dict], days: list[date]) -> dict:
    # The page names each reason in words; the CSV keeps the code itself.
    declines = [{**row, "label": reason_label(row["reason"])} for row in declines]
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
                value_text=rate_text,
            )
        )
    decline_charts = []
    if declines:
        decline_charts.append(
            category_chart(
                "declines",
                _("Why auto-renew attempts failed"),
                [row["label"] for row in declines],
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


def lines_section(rows: list[dict]) -> dict:
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


def expiries_section(rows: list[dict]) -> dict:
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


def vouchers_section(rows: list[dict], days: list[date]) -> dict:
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


def promotions_section(rows: list[dict]) -> dict:
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
