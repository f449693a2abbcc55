"""What an operation reaches through its caller (docs/api.md): a customer reaches their own lines
and saved cards only (anyone else's is simply not found); a key with the operation's scope reaches
any held number, never a card."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from refill.lines.models import Line
from refill.orders.errors import NotOwner
from refill.payments.models import PaymentMethod

from .auth import customer_of, require_scope


def line_for(request: HttpRequest, msisdn: str, scope: str) -> Line:
    """The caller's line ``msisdn``; for an API key with ``scope``, any held number."""
    if getattr(request, "api_key", None) is not None:
        require_scope(request, scope)
        lines = Line.objects.exclude(status__in=["available", "ported_out"])
    else:
        lines = Line.objects.filter(owner=customer_of(request))
    line = lines.select_related("market", "plan").filter(msisdn=msisdn.strip()).first()
    if line is None:
        raise NotOwner()
    return line


def payment_method_for(request: HttpRequest, method_id: int) -> PaymentMethod:
    """One of the signed-in customer's saved methods (not removed)."""
    # Through its owner: another customer's method is simply not found.
    return get_object_or_404(PaymentMethod, pk=method_id, customer=customer_of(request), removed_at__isnull=True)
