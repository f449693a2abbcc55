"""Credit notes: the customer's document for money given back, as receipts are for money taken.

One per refund that succeeded, issued in the refund's transaction without a number and numbered
after commit, gap-free, in a series per market and year (``US-CR-2026``) kept in the same counter
table as receipts (``ReceiptSeries``): a rolled-back refund never leaves a gap, and a refund never
waits on the counter. Rendered like receipts, in the customer's language and time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import CreditNote, Order, ReceiptSeries, Refund
from .services import documents_number

# "CR" (credit), after the market's code: receipts are "US-2026", credit notes "US-CR-2026" (a
# "CN" prefix would read as the China market).
MARK = "CR"


def credit_note_series_code(order: Order, at: datetime) -> str:
    return f"{order.market.code.upper()}-{MARK}-{at.astimezone(order.market.zone).year}"


def credit_note_issue(*, refund: Refund, now: datetime | None = None) -> CreditNote:
    """The refund's credit note, unnumbered (``credit_notes_number`` numbers it after commit).
    Issuing twice gives the same note."""
    issued_at = now or timezone.now()
    existing = CreditNote.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    code = credit_note_series_code(refund.order, issued_at)
    series = ReceiptSeries.objects.filter(code=code).first()
    if series is None:
        with transaction.atomic():
            series, _ = ReceiptSeries.objects.get_or_create(code=code)
    return CreditNote.objects.create(
        refund=refund, series=series, issued_at=issued_at, amount=refund.amount, currency=refund.currency
    )


def credit_notes_number(*, series_code: str | None = None, limit: int = 1000) -> int:
    """Give committed, unnumbered credit notes their gap-free numbers, in the receipts' counter
    table, the same way receipts are (``orders.services.documents_number``)."""
    return documents_number(CreditNote, series_code=series_code, limit=limit)


@dataclass
class RefundSummary:
    """What the customer is shown about an order's refunds: ``state`` is "refunded" (all of it),
    "partly_refunded" or "" (none); ``amount`` and ``last_at`` the money given back and when."""

    state: str = ""
    amount: Decimal = Decimal(0)
    last_at: datetime | None = None
    notes: list[CreditNote] = field(default_factory=list)


def order_refund_summary(order: Order) -> RefundSummary:
    done = order.refunds.filter(status=Refund.Status.SUCCEEDED)
    totals = done.aggregate(amount=Sum("amount"), last=Max("created_at"))
    if not totals["amount"]:
        return RefundSummary()
    amount = Decimal(totals["amount"])
    notes = list(CreditNote.objects.filter(refund__order=order).select_related("refund").order_by("issued_at", "pk"))
    state = "refunded" if amount >= order.total else "partly_refunded"
    return RefundSummary(state=state, amount=amount, last_at=totals["last"], notes=notes)


def orders_refund_summaries(orders: list[Order]) -> dict[int, RefundSummary]:
    """``order_refund_summary`` for a page of orders, in two queries."""
    summaries: dict[int, RefundSummary] = {}
    by_pk = {order.pk: order for order in orders}
    rows = (
        Refund.objects.filter(order_id__in=list(by_pk), status=Refund.Status.SUCCEEDED)
        .values("order_id")
        .annotate(amount=Sum("amount"), last=Max("created_at"))
        .order_by()
    )
    for row in rows:
        order = by_pk[row["order_id"]]
        amount = Decimal(row["amount"])
        summaries[order.pk] = RefundSummary(
            state="refunded" if amount >= order.total else "partly_refunded", amount=amount, last_at=row["last"]
        )
    if summaries:
        notes = (
            CreditNote.objects.filter(refund__order_id__in=list(summaries))
            .select_related("refund")
            .order_by("issued_at", "pk")
        )
        for note in notes:
            summaries[note.refund.order_id].notes.append(note)
    return summaries


def credit_note_context(note: CreditNote) -> dict:
    refund = note.refund
    order = refund.order
    return {
        "note": note,
        "refund": refund,
        "order": order,
        "receipt": getattr(order, "receipt", None),
        "item": order.items.select_related("plan").first(),
        "customer": order.customer,
        "operator": settings.REFILL_OPERATOR,
    }


def credit_note_pdf(note: CreditNote) -> bytes:
    """The credit note as PDF bytes in the customer's language and time zone (a CJK font is needed
    for Chinese, as for receipts)."""
    from weasyprint import HTML

    customer = note.refund.order.customer
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        html = render_to_string("receipts/credit_note.html", credit_note_context(note))
    return HTML(string=html).write_pdf()
