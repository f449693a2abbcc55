"""Receipt documents: the same content as HTML (for the browser) and PDF (WeasyPrint), always in
the customer's language and time zone."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from refill.payments.models import Payment
from refill.promotions.texts import order_promotion_lines
from refill.subscriptions.grants import addon_validity

from .creditnotes import order_refund_summary
from .models import Order, OrderItem, Receipt
from .services import receipts_number


def receipt_context(order: Order) -> dict:
    item = order.items.select_related("plan").get()
    valid_from, valid_until = item_validity(item)
    return {
        "order": order,
        "item": item,
        "receipt": getattr(order, "receipt", None),
        "operator": settings.REFILL_OPERATOR,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "paid_with": list(order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("method")),
        "customer": order.customer,
        "promotions": order_promotion_lines(order),
        # Refunds made since, each with its credit note: the receipt never reads "paid" alone.
        "refund_summary": order_refund_summary(order),
    }


def receipt_pdf(order: Order) -> bytes:
    """The receipt as PDF bytes in the customer's language; CJK text needs a CJK font installed
    (scripts/bootstrap.sh installs fonts-wqy-microhei)."""
    from weasyprint import HTML

    customer = order.customer
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        html = render_to_string("receipts/receipt.html", receipt_context(order))
    return HTML(string=html).write_pdf()


def item_validity(item: OrderItem) -> tuple[datetime | None, datetime | None]:
    """From when until when what an order item bought runs: its periods (a renewal), or its
    buckets (a pass grants buckets, not periods); (None, None) before it is granted."""
    if item.kind == OrderItem.Kind.ADDON:
        return addon_validity(item)
    periods = list(item.granted_periods.order_by("start"))
    return (periods[0].start, periods[-1].end) if periods else (None, None)


def order_reference(order: Order) -> str:
    """What a customer is given to quote for an order, the same on the page, in the email and on
    the PDF: its receipt's number once paid (numbered first if the numbering job has not run yet),
    else the order's own number, as its page is titled before it is paid."""
    receipt = Receipt.objects.filter(order=order).first()
    if receipt is not None and not receipt.number:
        receipts_number()
        receipt.refresh_from_db(fields=["number"])
    if receipt is not None and receipt.number:
        return receipt.display_number
    return str(order.pk)
