"""Public API v1 (docs/api.md). Errors are RFC 9457 problem details with a stable ``code`` and a
``detail`` translated by Accept-Language."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema, Status
from ninja.openapi.docs import Swagger
from pydantic import BaseModel

from refill.api.auth import CUSTOMERS, CUSTOMERS_AND_KEYS, api_key_auth, require_scope
from refill.api.auth import channel_of as _channel
from refill.api.auth import customer_of as _customer_of
from refill.api.declines import PaymentDeclined
from refill.api.declines import gift_paid as _gift_paid
from refill.api.errors import exception_handlers_add
from refill.api.idempotency import idempotency_key as _idempotency_key
from refill.api.openapi import RefillAPI
from refill.api.owned import line_for as _line_for
from refill.api.owned import payment_method_for as _method
from refill.api.pagination import page as _page
from refill.api.problems import Problem, RefusingParser
from refill.api.schemas import CardIn
from refill.api.types import Id, Moment, Money, SmallInt, UsageAmount
from refill.catalog.api import router as catalog_router
from refill.payments.api import router as payments_router
from refill.vouchers.api import router as vouchers_router

api = RefillAPI(
    parser=RefusingParser(),
    title="Refill API",
    version="1",
    urls_namespace="api-v1",
    auth=CUSTOMERS,
    docs_url="/docs",
    # Swagger UI from ninja's own static files ("ninja" in INSTALLED_APPS), not a CDN: Refill's
    # CSP allows only 'self', and the docs are read offline too. No validator.swagger.io badge.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
)
exception_handlers_add(api)


# Orders ----------------------------------------------------------------------------------------


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


def _promotions_out(lines, currency: str) -> list[dict]:
    from refill.domain.money import quantize

    return [
        {"name": line.name, "code": line.code, "discount": quantize(line.discount, currency), "gives": line.gives}
        for line in lines
    ]


def _order_out(request: HttpRequest, order) -> dict:
    from refill.domain.money import quantize
    from refill.promotions.texts import order_promotion_lines
    from refill.renewals.errors import decline_message

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


def _pay_with(request: HttpRequest, body: OrderIn):
    from refill.integrations.payments.base import PROVIDER_WALLETS, CardDetails
    from refill.renewals.errors import OrderNotPayable
    from refill.renewals.services import PayWith

    card = CardDetails(**body.card.dict()) if body.card is not None else None
    saved = _method(request, body.payment_method_id) if body.payment_method_id is not None else None
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


@api.post(
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
    from refill.integrations.payments.base import TokenizationError
    from refill.lines.models import Line
    from refill.orders.models import Order
    from refill.renewals.errors import NotOwner, PlanNotAvailable, decline_message
    from refill.renewals.services import order_create_renewal, order_pay, renewal_plans

    customer = _customer_of(request)
    key = _idempotency_key(request)
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
        channel=_channel(request),
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
        declined = PaymentDeclined(decline_message(exc.code))
        declined.extra = {"decline_code": exc.code, "order_id": order.pk}
        raise declined from None
    if payment is not None and payment.status == "failed":
        declined = PaymentDeclined(decline_message(payment.decline_code))
        declined.extra = {"decline_code": payment.decline_code, "order_id": order.pk}
        raise declined
    order.refresh_from_db()
    return Status(201, _order_out(request, order))


def _partner_order(request: HttpRequest, body: OrderIn):
    from refill.integrations.payments.base import CardDetails
    from refill.renewals.errors import OrderNotPayable
    from refill.renewals.gifts import GiftRequest

    require_scope(request, "renew")
    if body.pay_with != "card" or body.card is None:
        raise OrderNotPayable(_("A partner pays by card: send pay_with card and the card."))
    gift = GiftRequest(
        msisdn=body.msisdn, card=CardDetails(**body.card.dict()), key=_idempotency_key(request),
        ip=request.META.get("REMOTE_ADDR", ""), plan=body.plan.strip(), periods=body.periods,
        expected_total=body.expected_total, language=translation.get_language(), api_key=request.api_key,
        promotion_code=body.promotion_code,
    )  # fmt: skip
    outcome = _gift_paid(request, gift)
    return Status(201 if outcome.charged_now else 200, _order_out(request, outcome.order))


def _orders_of(request: HttpRequest):
    """A customer's own orders; a partner key (scope ``read``) sees the orders it placed."""
    from refill.orders.models import Order

    if getattr(request, "api_key", None) is not None:
        require_scope(request, "read")
        return Order.objects.filter(payer_api_key=request.api_key)
    return Order.objects.filter(customer=_customer_of(request))


@api.get(
    "/orders/{order_id}",
    response={200: OrderOut, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="One of your orders",
)
def orders_get(request: HttpRequest, order_id: Id):
    from django.shortcuts import get_object_or_404

    return _order_out(request, get_object_or_404(_orders_of(request), pk=order_id))


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


@api.get(
    "/orders",
    response={200: OrderPage, 403: Problem, 422: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="Your orders, a page at a time (oldest first)",
)
def orders_list(request: HttpRequest, cursor: str = "", limit: SmallInt = 50):
    orders = _orders_of(request).select_related("line")
    items, next_cursor = _page(orders, cursor, max(1, min(limit, 100)))
    return {"items": [_order_out(request, order) for order in items], "next_cursor": next_cursor}


@api.get(
    "/orders/{order_id}/receipt.pdf",
    response={200: None, 404: Problem},
    summary="The receipt of one of your paid orders, as a PDF in your language",
)
def orders_receipt(request: HttpRequest, order_id: Id):
    from django.shortcuts import get_object_or_404

    from refill.orders.models import Order
    from refill.orders.receipts import receipt_pdf
    from refill.orders.services import receipts_number

    order = get_object_or_404(Order, pk=order_id, customer=_customer_of(request))
    if order.status != Order.Status.PAID or not hasattr(order, "receipt"):
        raise Http404
    receipts_number()  # the PDF always carries its number
    order.receipt.refresh_from_db()
    response = HttpResponse(receipt_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{order.receipt.display_number}.pdf"'
    return response


# Gift refills -------------------------------------------------------------------------------------


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
    from refill.domain.money import quantize
    from refill.orders.models import OrderItem
    from refill.renewals.errors import decline_message
    from refill.renewals.gifts import gift_item

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


@api.post(
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
    from refill.integrations.payments.base import CardDetails
    from refill.renewals.gifts import GiftRequest

    gift = GiftRequest(
        msisdn=body.msisdn,
        card=CardDetails(**body.card.dict()),
        key=_idempotency_key(request),
        ip=request.META.get("REMOTE_ADDR", ""),
        email=body.email.strip(),
        plan=body.plan.strip(),
        periods=body.periods,
        amount=body.amount,
        expected_total=body.expected_total,
        language=translation.get_language(),
    )
    outcome = _gift_paid(request, gift)
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


def _own_line(request: HttpRequest, msisdn: str):
    from refill.lines.models import Line
    from refill.renewals.errors import NotOwner

    line = Line.objects.select_related("market").filter(msisdn=msisdn.strip(), owner=_customer_of(request)).first()
    if line is None:
        raise NotOwner()
    return line


def _auto_renew_out(line) -> dict:
    from refill.domain.money import quantize
    from refill.renewals.autorenew import autorenew_settings

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


@api.get("/lines/{msisdn}/auto-renew", response={200: AutoRenewOut, 404: Problem}, summary="A line's auto-renew")
def auto_renew_get(request: HttpRequest, msisdn: str):
    return _auto_renew_out(_own_line(request, msisdn))


@api.patch(
    "/lines/{msisdn}/auto-renew",
    response={200: AutoRenewOut, 404: Problem, 422: Problem},
    summary="Turn auto-renew on or off, set caps and ways to pay",
)
def auto_renew_patch(request: HttpRequest, msisdn: str, body: AutoRenewPatch):
    from refill.renewals.autorenew import autorenew_update
    from refill.renewals.autorenew_settings import autorenew_settings_check

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


# Lines and their eSIM: a customer reaches their own; a key with the scope reaches any held number.


class BucketOut(Schema):
    kind: str
    granted: int
    used: int
    remaining: int
    unlimited: bool
    expires_at: datetime


class LineOut(Schema):
    msisdn: str
    status: str
    status_label: str
    sim_type: str
    plan: str
    plan_name: str
    period_end: datetime | None
    buckets: list[BucketOut]


class LinePage(Schema):
    items: list[LineOut]
    next_cursor: str | None


def _line_out(line, now) -> dict:
    from refill.subscriptions.selectors import buckets_now, line_current_plan

    plan = line_current_plan(line, now)
    return {
        "msisdn": line.msisdn, "status": line.status, "status_label": line.status_label, "sim_type": line.sim_type,
        "plan": plan.code, "plan_name": plan.name, "period_end": line.period_end,
        "buckets": [
            {"kind": b.kind, "granted": b.granted, "used": b.used, "remaining": b.remaining,
             "unlimited": b.unlimited, "expires_at": b.expires_at}
            for b in buckets_now(line, now).order_by("expires_at", "pk")
        ],
    }  # fmt: skip


@api.get("/lines", response={200: LinePage, 403: Problem, 422: Problem}, summary="Your lines, a page at a time")
def lines_list(request: HttpRequest, cursor: str = "", limit: SmallInt = 50):
    from django.utils import timezone

    from refill.lines.models import Line

    lines = Line.objects.filter(owner=_customer_of(request)).exclude(status__in=["available", "ported_out"])
    items, next_cursor = _page(lines.select_related("plan", "market"), cursor, max(1, min(limit, 100)))
    now = timezone.now()
    return {"items": [_line_out(line, now) for line in items], "next_cursor": next_cursor}


@api.get(
    "/lines/{msisdn}",
    response={200: LineOut, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="A line: status, plan, period end and balances",
)
def lines_get(request: HttpRequest, msisdn: str):
    from django.utils import timezone

    return _line_out(_line_for(request, msisdn, "read"), timezone.now())


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


@api.get(
    "/lines/{msisdn}/quote",
    response={200: QuoteOut, 403: Problem, 404: Problem, 409: Problem, 422: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="What renewing a line would cost, with the promotions that apply",
)
def lines_quote(request: HttpRequest, msisdn: str, plan: str, periods: SmallInt = 1, promotion_code: str = ""):
    from refill.domain.money import quantize
    from refill.promotions.errors import PromotionUnknown
    from refill.renewals.errors import PlanNotAvailable
    from refill.renewals.services import renewal_plans, renewal_quote_promoted

    line = _line_for(request, msisdn, "renew")
    chosen = {candidate.code: candidate for candidate in renewal_plans(line)}.get(plan.strip())
    if chosen is None:
        raise PlanNotAvailable()
    channel = _channel(request)
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


class EsimOut(Schema):
    status: str  # none, ordering, released, downloaded, installed, failed
    profile_state: str | None
    activation_code: str | None  # only while it can be installed
    ios_install_link: str | None
    qr_png_url: str | None
    downloads_left: int | None


def _esim_line_for(request: HttpRequest, msisdn: str):
    from refill.lines.models import Line
    from refill.renewals.errors import NotOwner

    line = _line_for(request, msisdn, "esim")
    if line.sim_type != Line.SimType.ESIM:
        raise NotOwner()
    return line


def _esim_out(request: HttpRequest, line) -> dict:
    from refill.esim.services import esim_view

    view = esim_view(line)
    code = view.code
    return {
        "status": view.order.status if view.order else "none",
        "profile_state": view.profile.smdp_state if view.profile else None,
        "activation_code": str(code) if code else None,
        "ios_install_link": code.ios_install_link if code else None,
        "qr_png_url": request.build_absolute_uri(f"/api/v1/lines/{line.msisdn}/esim/qr.png") if code else None,
        "downloads_left": view.downloads_left,
    }


@api.get(
    "/lines/{msisdn}/esim",
    response={200: EsimOut, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="A line's eSIM: install status, and the activation code while it can be installed",
)
def esim_get(request: HttpRequest, msisdn: str):
    return _esim_out(request, _esim_line_for(request, msisdn))


@api.get(
    "/lines/{msisdn}/esim/qr.png",
    response={200: None, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="The activation code as a QR code (PNG)",
)
def esim_qr(request: HttpRequest, msisdn: str):
    from refill.domain.activation import qr_png
    from refill.esim.services import esim_view
    from refill.renewals.errors import NotOwner

    code = esim_view(_esim_line_for(request, msisdn)).code
    if code is None:
        raise NotOwner()
    response = HttpResponse(qr_png(code), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@api.post(
    "/lines/{msisdn}/esim/reissue",
    response={201: EsimOut, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 503: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="A new activation code for a new phone (the old one stops working)",
)
def esim_reissue_api(request: HttpRequest, msisdn: str):
    from refill.esim.services import esim_reissue

    line = _esim_line_for(request, msisdn)
    actor = request.user if request.user.is_authenticated else getattr(request, "api_key", None)
    esim_reissue(line=line, actor=actor)
    return Status(201, _esim_out(request, line))


# Usage from the network.


class UsageIn(BaseModel):
    """A plain pydantic model (not a ninja Schema): 1,000 of them a request, validated in C."""

    record_id: str = Field(max_length=64)
    msisdn: str
    kind: str  # data (MB), voice (minutes) or sms (messages)
    amount: UsageAmount
    timestamp: Moment


class UsageBatchIn(Schema):
    records: list[UsageIn]


class UsageOutcomeOut(BaseModel):
    record_id: str
    status: str  # applied, duplicate, unknown_line, invalid
    overage: int
    action: str  # for overage: blocked or throttled


class UsageBatchOut(BaseModel):
    results: list[UsageOutcomeOut]


@api.post(
    "/usage-records",
    response={200: UsageBatchOut, 401: None, 403: Problem, 422: Problem},
    auth=[api_key_auth],
    summary="Usage records from the network (up to 1,000 a request), each applied once by its id",
)
def usage_records_post(request: HttpRequest, body: UsageBatchIn):
    from refill.subscriptions.usage import Usage, usage_apply

    require_scope(request, "usage:write")
    outcomes = usage_apply([Usage(r.record_id, r.msisdn.strip(), r.kind, r.amount, r.timestamp) for r in body.records])
    # Rendered here, not validated again against UsageBatchOut: a thousand plain rows of known shape.
    return HttpResponse(
        json.dumps({"results": [vars(outcome) for outcome in outcomes]}), content_type="application/json; charset=utf-8"
    )


class UsageDayOut(Schema):
    date: str
    data: int
    voice: int
    sms: int


@api.get(
    "/lines/{msisdn}/usage",
    response={200: list[UsageDayOut], 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="Daily usage of a line (last 30 days by default), for charts",
)
def usage_daily_get(request: HttpRequest, msisdn: str, days: SmallInt = 30):
    from refill.subscriptions.usage import usage_daily

    line = _line_for(request, msisdn, "read")
    return [{**day, "date": day["date"].isoformat()} for day in usage_daily(line, days=max(1, min(days, 92)))]


for router in (vouchers_router, payments_router, catalog_router):
    api.add_router("", router)
