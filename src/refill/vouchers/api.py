"""API v1: refill PINs (docs/api.md, ``POST /api/v1/vouchers/redeem``)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from refill.api.auth import CUSTOMERS_AND_KEYS, customer_of, require_scope
from refill.api.problems import Problem
from refill.ledger.services import wallet_balance
from refill.renewals.gifts import gift_line

from .services import voucher_redeem

router = Router()


class RedeemIn(Schema):
    pin: str
    gift_msisdn: str = ""


class RedeemOut(Schema):
    serial: str
    amount: Decimal
    currency: str
    credited_msisdn: str | None
    wallet_balance: Decimal | None


@router.post(
    "/vouchers/redeem",
    response={200: RedeemOut, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="Redeem a refill PIN onto your wallet or onto any number",
)
def vouchers_redeem(request: HttpRequest, body: RedeemIn):
    """A customer redeems onto their wallet, or onto the owner of ``gift_msisdn``. A partner's key
    (scope ``vouchers``) has no wallet: it always names the number."""
    if getattr(request, "api_key", None) is not None:
        return _partner_redeem(request, body)
    customer = customer_of(request)
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


def _partner_redeem(request: HttpRequest, body: RedeemIn) -> dict:
    require_scope(request, "vouchers")
    line = gift_line(body.gift_msisdn)  # a key has no wallet of its own
    voucher = voucher_redeem(
        pin=body.pin,
        customer=line.owner,
        ip=request.META.get("REMOTE_ADDR"),
        gift_msisdn=line.msisdn,
        actor=request.api_key,
        count_misses_for=None,  # misses count against the partner's address, never the owner
    )
    return {
        "serial": voucher.serial,
        "amount": voucher.face_value,
        "currency": voucher.currency,
        "credited_msisdn": line.msisdn,
        "wallet_balance": None,
    }
