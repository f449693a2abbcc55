"""Public API v1 (docs/api.md). Errors are RFC 9457 problem details with a stable ``code`` and a
``detail`` translated by Accept-Language."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import NinjaAPI, Schema
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
