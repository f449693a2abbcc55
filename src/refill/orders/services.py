"""Orders and their receipts."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from refill.ops.bulk import bulk_insert, bulk_set, unsaved

from .models import Order, Receipt, ReceiptSeries


def receipts_issue(*, orders: list[Order], now: datetime | None = None) -> list[Receipt]:
    """The orders' receipts, in one statement, numbered later by ``receipts_number`` (no lock on
    the series here). Each market has one series per year, in its own time zone."""
    issued_at = now or timezone.now()
    series: dict[str, ReceiptSeries] = {}
    receipts = []
    for order in orders:
        code = f"{order.market.code.upper()}-{issued_at.astimezone(order.market.zone).year}"
        if code not in series:
            series[code] = ReceiptSeries.objects.filter(code=code).first()
            if series[code] is None:
                with transaction.atomic():
                    series[code], _ = ReceiptSeries.objects.get_or_create(code=code)
        receipts.append(
            unsaved(
                Receipt,
                order=order,
                series=series[code],
                issued_at=issued_at,
                total=order.total,
                currency=order.currency,
            )
        )
    return bulk_insert(receipts)


def documents_number(model, *, series_code: str | None = None, limit: int = 1000) -> int:
    """Give committed, unnumbered documents of ``model`` (receipts, credit notes: each with a
    ``series`` and a nullable ``number``) their gap-free numbers, oldest first. Holds the series
    row only for this short transaction; safe to call from anywhere, any number of times."""
    pending = model.objects.filter(number__isnull=True)
    if series_code:
        pending = pending.filter(series_id=series_code)
    numbered = 0
    for code in sorted(set(pending.values_list("series_id", flat=True))):
        with transaction.atomic():
            series = ReceiptSeries.objects.select_for_update().get(code=code)
            documents = list(
                model.objects.filter(series=series, number__isnull=True).order_by("issued_at", "pk")[:limit]
            )
            for offset, document in enumerate(documents):
                document.number = series.next_number + offset
            bulk_set(documents, ["number"])
            series.next_number += len(documents)
            series.save(update_fields=["next_number"])
            numbered += len(documents)
    return numbered


def receipts_number(*, series_code: str | None = None, limit: int = 1000) -> int:
    """Give committed, unnumbered receipts their gap-free numbers (``documents_number``)."""
    return documents_number(Receipt, series_code=series_code, limit=limit)
