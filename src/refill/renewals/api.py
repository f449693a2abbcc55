"""API v1: gift refills of any number (docs/api.md, ``POST /api/v1/refills``) and a line's
auto-renew (docs/api.md, "Auto-renew")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Router, Schema, Status

from refill.api.auth import customer_of
from refill.api.declines import gift_paid
from refill.api.idempotency import idempotency_key
from refill.api.problems import Problem
from refill.api.schemas import CardIn
from refill.api.types import Money
from refill.domain.money import quantize
from refill.lines.models import Line
from refill.orders.errors import NotOwner, decline_message
from refill.orders.models import OrderItem
from refill.payments.port import CardDetails

from .autorenew import autorenew_settings, autorenew_update
from .autorenew_settings import autorenew_settings_check
from .gifts import GiftRequest, gift_item

router = Router()


class RefillIn(Schema):
    """A gift refill of any number, without an account, paid by card: either ``plan`` (a renewal
    plan of that number, ``periods`` of it) or ``amount`` (money for its owner's wallet, in the
    number's currency). ``email`` (optional) gets the payment confirmation."""

    msisdn: str
    plan: str = ""
    periods: int = Field(1, ge=1, le=120)
    amount: Money | None = Field(None, gt=0)
    card: CardIn
    email: str = Field("", max_length=254)
    expected_total: Money | None = None


class RefillPaymentOut(Schema):
    status: str
    decline_code: str
    decline_message: str
    next_url: str


class RefillOut(Schema):
    """What the payer paid for, and nothing else about the line."""

    id: int
    status: str
    msisdn: str
    gift: str  # plan or amount
    plan: str | None
    periods: int
    total: Decimal
    currency: str
    payment: RefillPaymentOut | None


def _refill_out(order, payment) -> dict:
    item = gift_item(order)
    return {
        "id": order.pk,
        "status": order.status,
        "msisdn": order.gift_line.msisdn,
        "gift": "amount" if item.kind == OrderItem.Kind.WALLET_TOPUP else "plan",
        "plan": item.plan.code if item.plan_id else None,
        "periods": item.periods,
        "total": quantize(order.total, order.currency),
        "currency": order.currency,
        "payment": {
            "status": payment.status,
            "decline_code": payment.decline_code,
            "decline_message": decline_message(payment.decline_code) if payment.decline_code else "",
            "next_url": payment.action_url if payment.status == "requires_action" else "",
        }
        if payment is not None
        else None,
    }


@router.post(
    "/refills",
    auth=None,
    response={200: RefillOut, 201: RefillOut, 402: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem},
    summary="Refill any number as a gift, without an account, paid by card",
)
def refills_create(request: HttpRequest, body: RefillIn):
    """The number's owner is told of the gift; the payer sees only what they paid for. The same
    ``Idempotency-Key`` again returns the same refill and never charges twice. A declined card is a
    402 problem; a card that needs the payer's bank comes back with ``payment.next_url``, and the
    bank's step returns the payer to a page that shows how it ended."""
    gift = GiftRequest(
        msisdn=body.msisdn,
        card=CardDetails(**body.card.dict()),
        key=idempotency_key(request),
        ip=request.META.get("REMOTE_ADDR", ""),
        email=body.email.strip(),
        plan=body.plan.strip(),
        periods=body.periods,
        amount=body.amount,
        expected_total=body.expected_total,
        language=translation.get_language(),
    )
    outcome = gift_paid(request, gift)
    order, payment = outcome.order, outcome.payment
    return Status(201 if outcome.charged_now else 200, _refill_out(order, payment))


# Auto-renew ------------------------------------------------------------------------------------


class AutoRenewOut(Schema):
    enabled: bool
    cap_per_renewal: Decimal | None
    cap_per_month: Decimal | None
    use_wallet: bool
    use_default_method: bool
    use_backup_method: bool
    retention_fallback: bool
    currency: str
    next_attempt_at: datetime | None


class AutoRenewPatch(Schema):
    """Only the fields sent change. Caps are in the line's currency; ``null`` removes a cap."""

    enabled: bool | None = None
    cap_per_renewal: Money | None = Field(None, gt=0)
    cap_per_month: Money | None = Field(None, gt=0)
    use_wallet: bool | None = None
    use_default_method: bool | None = None
    use_backup_method: bool | None = None
    retention_fallback: bool | None = None


def _own_line(request: HttpRequest, msisdn: str) -> Line:
    """Auto-renew is the owner's alone: no key reaches it."""
    line = Line.objects.select_related("market").filter(msisdn=msisdn.strip(), owner=customer_of(request)).first()
    if line is None:
        raise NotOwner()
    return line


def _auto_renew_out(line) -> dict:
    settings = autorenew_settings(line)
    upcoming = line.renewal_attempts.filter(status="due").order_by("due_at").values_list("due_at", flat=True).first()
    currency = line.market.currency
    return {
        "enabled": settings.enabled,
        "cap_per_renewal": quantize(settings.cap_per_renewal, currency) if settings.cap_per_renewal else None,
        "cap_per_month": quantize(settings.cap_per_month, currency) if settings.cap_per_month else None,
        "use_wallet": settings.use_wallet,
        "use_default_method": settings.use_default_method,
        "use_backup_method": settings.use_backup_method,
        "retention_fallback": settings.retention_fallback,
        "currency": currency,
        "next_attempt_at": upcoming,
    }


@router.get("/lines/{msisdn}/auto-renew", response={200: AutoRenewOut, 404: Problem}, summary="A line's auto-renew")
def auto_renew_get(request: HttpRequest, msisdn: str):
    return _auto_renew_out(_own_line(request, msisdn))


@router.patch(
    "/lines/{msisdn}/auto-renew",
    response={200: AutoRenewOut, 404: Problem, 422: Problem},
    summary="Turn auto-renew on or off, set caps and ways to pay",
)
def auto_renew_patch(request: HttpRequest, msisdn: str, body: AutoRenewPatch):
    line = _own_line(request, msisdn)
    # Unset fields stay as they are; a null cap removes the cap, a null switch changes nothing.
    changes = {
        name: value
        for name, value in body.dict(exclude_unset=True).items()
        if value is not None or name.startswith("cap_")
    }
    autorenew_settings_check(line=line, changes=changes)  # the portal form's rule: a 422 problem
    autorenew_update(line=line, actor=request.user, **changes)
    return _auto_renew_out(line)
