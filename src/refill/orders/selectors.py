"""Which orders a customer may see as theirs (the portal's order pages, a support request about
an order)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Order


def customer_orders(customer) -> QuerySet[Order]:
    """The orders a customer sees as theirs: their own, and what someone else (a guest's gift, a
    partner) paid for their number once it is paid. Someone else's unfinished or declined attempt is
    that payer's business: the owner could not continue it, and it would read as their own."""
    return Order.objects.filter(customer=customer).filter(Q(payer=Order.Payer.OWNER) | Q(status=Order.Status.PAID))
