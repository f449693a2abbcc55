"""API v1: renewing a line and paying for it, what it would cost first, and the orders made
(docs/api.md, "Orders")."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from refill.api.auth import CUSTOMERS_AND_KEYS, channel_of, customer_of, require_scope
from refill.api.declines import gift_paid, payment_declined
from refill.api.idempotency import idempotency_key
from refill.api.owned import line_for, payment_method_for
from refill.api.pagination import page, page_limit
from refill.api.problems import Problem
from refill.api.schemas import CardIn
from refill.api.types import Id, Money, SmallInt
from refill.domain.money import quantize
from refill.lines.models import Line
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import NotOwner, OrderNotPayable, PlanNotAvailable, decline_message
from refill.orders.paying import PayWith, order_pay
from refill.orders.pricing import renewal_plans, renewal_quote_promoted
from refill.payments.port import PROVIDER_WALLETS, CardDetails, TokenizationError
from refill.promotions.errors import PromotionUnknown
from refill.promotions.texts import order_promotion_lines
from refill.renewals.gifts import GiftRequest

from .models import Order
from .receipts import receipt_pdf
from .services import receipts_number

router = Router()


class OrderIn(Schema):
    """Renew one of your lines. ``pay_with`` is ``card`` (with ``card``), ``saved_method`` (with
    ``payment_method_id``), ``wallet``, ``wallet_card`` (the wallet first, a card or saved method
    for the rest), or a provider wallet the gateway offers (``paypal``, ``apple_pay``, ``alipay``,
    ``wechat_pay``). ``expected_total`` refuses the order if the price is no longer that.
    ``promotion_code`` applies a promotion code (a code that does not apply refuses the order, with
    the reason); running automatic offers apply without one (``GET /lines/{msisdn}/quote`` shows
    them before you order)."""

    msisdn: str
    plan: str
    periods: int = Field(1, ge=1, le=120)
    pay_with: str = "card"
    card: CardIn | None = None
    payment_method_id: Id | None = None
    expected_total: Money | None = None
    promotion_code: str = Field("", max_length=32)


class PaymentOut(Schema):
    id: int
    method: str
    status: str
    amount: Decimal
    decline_code: str
    decline_message: str
    # Where to send the customer next (the bank's confirmation step or the provider's page).
    next_url: str


class PromotionOut(Schema):
    """A promotion an order takes: its name (in your language), its code (empty: applied
    automatically), what it takes off, and what it gives besides, in words."""

    name: str
    code: str
    discount: Decimal
    gives: list[str]


class OrderOut(Schema):
    id: int
    status: str
    msisdn: str | None
    plan: str | None
    periods: int
    free_periods: int
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    currency: str
    promotion_code: str
    promotions: list[PromotionOut]
    created_at: datetime
    payments: list[PaymentOut]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


def _promotions_out(lines, currency: str) -> list[dict]:
    return [
        {"name": line.name, "code": line.code, "discount": quantize(line.discount, currency), "gives": line.gives}
        for line in lines
    ]


def _order_out(request: HttpRequest, order) -> dict:
    item = order.items.select_related("plan").first()
    return {
        "id": order.pk,
        "status": order.status,
        "msisdn": order.line.msisdn if order.line_id else None,
        "plan": item.plan.code if item is not None and item.plan_id else None,
        "periods": item.periods if item is not None else 0,
        "free_periods": item.free_periods if item is not None else 0,
        "subtotal": quantize(order.subtotal, order.currency),
        "discount": quantize(order.discount, order.currency),
        "tax": quantize(order.tax, order.currency),
        "total": quantize(order.total, order.currency),
        "currency": order.currency,
        "promotion_code": order.promotion_code,
        "promotions": _promotions_out(order_promotion_lines(order), order.currency),
        "created_at": order.created_at,
        "payments": [
            {
                "id": payment.pk,
                "method": payment.method,
                "status": payment.status,
                "amount": quantize(payment.amount, payment.currency),
                "decline_code": payment.decline_code,
                "decline_message": decline_message(payment.decline_code) if payment.decline_code else "",
                "next_url": request.build_absolute_uri(payment.action_url)
                if payment.status == "requires_action" and payment.action_url
                else "",
            }
            for payment in order.payments.order_by("pk")
        ],
    }


def _pay_with(request: HttpRequest, body: OrderIn) -> PayWith:
    card = CardDetails(**body.card.dict()) if body.card is not None else None
    saved = payment_method_for(request, body.payment_method_id) if body.payment_method_id is not None else None
    choice = body.pay_with
    if choice == "card" and card is not None:
        return PayWith(card=card)
    if choice == "saved_method" and saved is not None:
        return PayWith(saved_method=saved)
    if choice == "wallet":
        return PayWith()
    if choice == "wallet_card" and (card is not None or saved is not None):
        return PayWith(card=card, saved_method=saved, use_wallet=True)
    if choice in PROVIDER_WALLETS:
        return PayWith(provider_wallet=choice)
    raise OrderNotPayable(_("Choose how to pay: a card, a saved method, the wallet or a provider wallet."))


@router.post(
    "/orders",
    response={
        200: OrderOut,
        201: OrderOut,
        402: Problem,
        403: Problem,
        404: Problem,
        409: Problem,
        422: Problem,
        429: Problem,
    },
    auth=CUSTOMERS_AND_KEYS,
    summary="Renew a line and pay for it",
)
def orders_create(request: HttpRequest, body: OrderIn):
    """Creates the order and pays it at once. Sending the same ``Idempotency-Key`` again returns the
    same order and never charges twice. A declined card is a 402 problem with ``decline_code``; a
    payment that needs the customer's bank comes back ``requires_action`` with ``next_url``.

    A partner's key (scope ``renew``) renews any held number for its customer, paying by card: the
    order is the number owner's, who is told of it."""
    if getattr(request, "api_key", None) is not None:
        return _partner_order(request, body)
    customer = customer_of(request)
    key = idempotency_key(request)
    line = Line.objects.select_related("market", "plan").filter(msisdn=body.msisdn.strip(), owner=customer).first()
    if line is None:
        raise NotOwner()
    plan = {plan.code: plan for plan in renewal_plans(line)}.get(body.plan)
    if plan is None:
        raise PlanNotAvailable()
    pay_with = _pay_with(request, body)
    order = order_create_renewal(
        customer=customer,
        line=line,
        plan=plan,
        periods=body.periods,
        # Orders keep keys of up to 80 characters; a longer one (the API allows 255) by its digest.
        idempotency_key=f"api:{key}" if len(key) <= 76 else f"api:#{hashlib.sha256(key.encode()).hexdigest()}",
        expected_total=body.expected_total,
        language=translation.get_language(),
        actor=request.user,
        promotion_code=body.promotion_code,
        channel=channel_of(request),
    )
    open_payment = order.payments.filter(status__in=["pending", "unknown", "requires_action"]).exists()
    if order.status == Order.Status.PAID or open_payment:
        return Status(200, _order_out(request, order))  # a replay: report, never pay again
    try:
        payment = order_pay(
            order=order,
            pay_with=pay_with,
            actor=request.user,
            return_url=request.build_absolute_uri(reverse("portal:payment_return", args=[order.pk])),
        )
    except TokenizationError as exc:
        raise payment_declined(exc.code, order_id=order.pk) from None
    if payment is not None and payment.status == "failed":
        raise payment_declined(payment.decline_code, order_id=order.pk)
    order.refresh_from_db()
    return Status(201, _order_out(request, order))


def _partner_order(request: HttpRequest, body: OrderIn):
    require_scope(request, "renew")
    if body.pay_with != "card" or body.card is None:
        raise OrderNotPayable(_("A partner pays by card: send pay_with card and the card."))
    gift = GiftRequest(
        msisdn=body.msisdn, card=CardDetails(**body.card.dict()), key=idempotency_key(request),
        ip=request.META.get("REMOTE_ADDR", ""), plan=body.plan.strip(), periods=body.periods,
        expected_total=body.expected_total, language=translation.get_language(), api_key=request.api_key,
        promotion_code=body.promotion_code,
    )  # fmt: skip
    outcome = gift_paid(request, gift)
    return Status(201 if outcome.charged_now else 200, _order_out(request, outcome.order))


def _orders_of(request: HttpRequest):
    """A customer's own orders; a partner key (scope ``read``) sees the orders it placed."""
    if getattr(request, "api_key", None) is not None:
        require_scope(request, "read")
        return Order.objects.filter(payer_api_key=request.api_key)
    return Order.objects.filter(customer=customer_of(request))


@router.get(
    "/orders/{order_id}",
    response={200: OrderOut, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="One of your orders",
)
def orders_get(request: HttpRequest, order_id: Id):
    return _order_out(request, get_object_or_404(_orders_of(request), pk=order_id))


@router.get(
    "/orders",
    response={200: OrderPage, 403: Problem, 422: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="Your orders, a page at a time (oldest first)",
)
def orders_list(request: HttpRequest, cursor: str = "", limit: SmallInt = 50):
    orders = _orders_of(request).select_related("line")
    items, next_cursor = page(orders, cursor, page_limit(limit))
    return {"items": [_order_out(request, order) for order in items], "next_cursor": next_cursor}


@router.get(
    "/orders/{order_id}/receipt.pdf",
    response={200: None, 404: Problem},
    summary="The receipt of one of your paid orders, as a PDF in your language",
)
def orders_receipt(request: HttpRequest, order_id: Id):
    order = get_object_or_404(Order, pk=order_id, customer=customer_of(request))
    if order.status != Order.Status.PAID or not hasattr(order, "receipt"):
        raise Http404
    receipts_number()  # the PDF always carries its number
    order.receipt.refresh_from_db()
    response = HttpResponse(receipt_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{order.receipt.display_number}.pdf"'
    return response


# What an order would cost, before it is made.


class QuoteProblem(Schema):
    code: str
    detail: str


class QuoteOut(Schema):
    """What renewing would cost now, with the promotions that would apply: the running automatic
    offers, and ``promotion_code`` if given (``promotion_code_problem`` says why it does not apply;
    the price is then without it). Nothing is held until you order."""

    msisdn: str
    plan: str
    periods: int
    free_periods: int
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    starts_at: datetime
    new_period_end: datetime
    promotions: list[PromotionOut]
    promotion_code_problem: QuoteProblem | None


@router.get(
    "/lines/{msisdn}/quote",
    response={200: QuoteOut, 403: Problem, 404: Problem, 409: Problem, 422: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="What renewing a line would cost, with the promotions that apply",
)
def lines_quote(request: HttpRequest, msisdn: str, plan: str, periods: SmallInt = 1, promotion_code: str = ""):
    line = line_for(request, msisdn, "renew")
    chosen = {candidate.code: candidate for candidate in renewal_plans(line)}.get(plan.strip())
    if chosen is None:
        raise PlanNotAvailable()
    channel = channel_of(request)
    code = promotion_code[:64]
    try:
        quote = renewal_quote_promoted(line=line, plan=chosen, periods=periods, code=code, channel=channel)
        problem = quote.code_refusal
    except PromotionUnknown as unknown:
        quote = renewal_quote_promoted(line=line, plan=chosen, periods=periods, channel=channel)
        problem = unknown
    currency = quote.quote.total.currency
    return {
        "msisdn": line.msisdn, "plan": chosen.code, "periods": periods, "free_periods": quote.offers.free_periods,
        "currency": currency, "subtotal": quantize(quote.quote.subtotal.amount, currency),
        "discount": quantize(quote.quote.discount.amount, currency), "tax": quantize(quote.quote.tax.amount, currency),
        "total": quantize(quote.quote.total.amount, currency), "starts_at": quote.renewal.spans[0].start,
        "new_period_end": quote.new_period_end, "promotions": _promotions_out(quote.lines, currency),
        "promotion_code_problem": {"code": problem.code, "detail": str(problem)} if problem is not None else None,
    }  # fmt: skip
