"""Wallet top-up orders: a person's own, a guest's gift to a number, or a business's bulk job."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from refill.audit.services import audit_record
from refill.domain.money import quantize
from refill.formatting import money_text
from refill.lines.models import Line
from refill.orders.errors import (
    IdempotencyConflict,
    TopupOutOfRange,
)
from refill.orders.models import Order, OrderItem

from .batch import payload_fingerprint
from .checkout import Guest, payer_fields


def wallet_topup_limits(currency: str) -> tuple[Decimal, Decimal]:
    limits = settings.REFILL_WALLET_TOPUP_LIMITS.get(currency) or settings.REFILL_WALLET_TOPUP_LIMITS["default"]
    return Decimal(limits[0]), Decimal(limits[1])


def order_create_topup(
    *,
    customer,
    market,
    amount: Decimal,
    idempotency_key: str,
    language: str = "en",
    actor=None,
    guest: Guest | None = None,
    gift_line: Line | None = None,
    bulk_job=None,
) -> Order:
    """An order to add ``amount`` to the customer's wallet in the market's currency. A ``guest``
    gives it to the owner of ``gift_line`` (the number they typed). A business's ``bulk_job`` pays
    its batch this way (the one payment, spent at once on the job's lines): the top-up limits, made
    for a person's wallet, do not apply to it."""
    currency = market.currency
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise TopupOutOfRange(low="", high="") from None
    low, high = wallet_topup_limits(currency)
    if bulk_job is not None:
        low, high = Decimal("0.01"), Decimal("99999999")
    if not amount.is_finite() or quantize(amount, currency) != amount or not low <= amount <= high:
        raise TopupOutOfRange(low=money_text(low, currency), high=money_text(high, currency))
    fingerprint = payload_fingerprint(
        {
            "topup": str(amount),
            "currency": currency,
            **({"line": gift_line.pk} if gift_line else {}),
            **({"bulk_job": bulk_job.pk} if bulk_job is not None else {}),
        }
    )
    existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict()
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.create(
                customer=customer,
                market=market,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                currency=currency,
                subtotal=amount,
                tax=Decimal(0),
                total=amount,
                tax_rate=Decimal(0),
                tax_inclusive=True,
                language=language,
                bulk_job=bulk_job,
                **payer_fields(guest, gift_line),
            )
            OrderItem.objects.create(
                order=order, kind=OrderItem.Kind.WALLET_TOPUP, periods=1, unit_price=amount, amount=amount
            )
            audit_record(
                actor=actor or guest or customer, action="order.create", obj=order, data={"topup": str(amount)}
            )
            return order
    except IntegrityError:
        existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None or existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict() from None
        return existing
