"""The reports as CSV files: which rows each report reads (``reports``) and its columns, and how a
value is written in a cell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from refill.catalog.models import Market
from refill.domain.money import quantize

from . import reports


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


def csv_cell(row: dict, key: str, kind: str):
    """A report's value as its CSV column writes it: days as ISO dates, money to the currency's places."""
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


def report_table(report: Report, date_from: date, date_to: date, market: Market | None) -> list[list]:
    """The CSV file's rows: the header (column keys), then one row per report row."""
    table: list[list] = [[key for key, _kind in report.columns]]
    for row in report.rows(date_from, date_to, market):
        table.append([csv_cell(row, key, kind) for key, kind in report.columns])
    return table
