"""Public API v1 (docs/api.md). Errors are RFC 9457 problem details with a stable ``code`` and a
``detail`` translated by Accept-Language."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status
from ninja.security import django_auth

from refill.errors import RefillError
from refill.ledger.services import wallet_balance
from refill.vouchers.services import voucher_redeem

api = NinjaAPI(
    title="Refill API",
    version="1",
    urls_namespace="api-v1",
    auth=django_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
)

STATUS_BY_CODE = {
    "too_many_pin_attempts": 429,
    "number_not_found": 404,
    "voucher_unknown": 422,
    "voucher_used": 409,
    "voucher_expired": 422,
    "voucher_voided": 422,
    "voucher_wrong_currency": 422,
}


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str


@api.exception_handler(RefillError)
def refill_error(request: HttpRequest, exc: RefillError):
    status = STATUS_BY_CODE.get(exc.code, 422)
    body = {
        "type": f"https://refill.example/problems/{exc.code}",
        "title": exc.code.replace("_", " "),
        "status": status,
        "code": exc.code,
        "detail": str(exc),
    }
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    if status == 429:
        response["Retry-After"] = "3600"
    return response


class RedeemIn(Schema):
    pin: str
    gift_msisdn: str = ""


class RedeemOut(Schema):
    serial: str
    amount: Decimal
    currency: str
    credited_msisdn: str | None
    wallet_balance: Decimal | None


@api.post(
    "/vouchers/redeem",
    response={200: RedeemOut, 404: Problem, 409: Problem, 422: Problem, 429: Problem},
    summary="Redeem a refill PIN onto your wallet or onto any number",
)
def vouchers_redeem(request: HttpRequest, body: RedeemIn):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise NoCustomer()
    voucher = voucher_redeem(
        pin=body.pin,
        customer=customer,
        ip=request.META.get("REMOTE_ADDR"),
        gift_msisdn=body.gift_msisdn,
        actor=request.user,
    )
    own = voucher.credited_to_id == customer.pk
    return {
        "serial": voucher.serial,
        "amount": voucher.face_value,
        "currency": voucher.currency,
        "credited_msisdn": voucher.gift_line.msisdn if voucher.gift_line_id else None,
        # The payer of a gift learns nothing about the recipient's wallet.
        "wallet_balance": wallet_balance(customer, voucher.currency) if own else None,
    }


class NoCustomer(RefillError):
    code = "no_customer"
    message = "This account has no wallet."


class MethodOut(Schema):
    id: int
    label: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    holder: str
    is_default: bool
    is_backup: bool


class MethodIn(Schema):
    """Sandbox only: card fields tokenised server-side. Real adapters take the provider's token
    made in the app (see docs/payments.md)."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder: str = ""


def _customer_of(request):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise NoCustomer()
    return customer


def _method(request, method_id: int):
    from django.shortcuts import get_object_or_404

    from refill.payments.models import PaymentMethod

    # Through its owner: another customer's method is simply not found.
    return get_object_or_404(PaymentMethod, pk=method_id, customer=_customer_of(request), removed_at__isnull=True)


def _method_out(method) -> dict:
    return {
        "id": method.pk,
        "label": method.label,
        "brand": method.brand,
        "last4": method.last4,
        "exp_month": method.exp_month,
        "exp_year": method.exp_year,
        "holder": method.holder,
        "is_default": method.is_default,
        "is_backup": method.is_backup,
    }


@api.get("/payment-methods", response=list[MethodOut], summary="Saved payment methods")
def payment_methods_list(request: HttpRequest):
    from refill.payments.services import methods_for

    return [_method_out(method) for method in methods_for(_customer_of(request))]


@api.post("/payment-methods", response={201: MethodOut, 422: Problem}, summary="Save a card")
def payment_methods_add(request: HttpRequest, body: MethodIn):
    from refill.integrations.payments.base import CardDetails, TokenizationError, get_gateway
    from refill.payments.services import MethodRefused, method_add

    try:
        method = method_add(
            customer=_customer_of(request),
            gateway=get_gateway(),
            card=CardDetails(body.number, body.exp_month, body.exp_year, body.cvc, body.holder),
            actor=request.user,
        )
    except TokenizationError as exc:
        raise MethodRefused(reason=str(exc)) from None
    return Status(201, _method_out(method))


@api.delete("/payment-methods/{method_id}", response={204: None, 404: Problem}, summary="Remove a saved method")
def payment_methods_remove(request: HttpRequest, method_id: int):
    from refill.payments.services import method_remove

    method_remove(method=_method(request, method_id), actor=request.user)
    return Status(204, None)


@api.post(
    "/payment-methods/{method_id}/{role}",
    response={200: MethodOut, 404: Problem, 422: Problem},
    summary="Make a saved method the default or the backup",
)
def payment_methods_role(request: HttpRequest, method_id: int, role: str):
    from refill.payments.services import method_set_role

    return _method_out(method_set_role(method=_method(request, method_id), role=role, actor=request.user))
