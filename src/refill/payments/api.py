"""API v1: a customer's saved payment methods (docs/api.md, "Saved payment methods")."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status

from refill.api.auth import customer_of
from refill.api.owned import payment_method_for
from refill.api.problems import Problem
from refill.api.types import CardDatePart, Id
from refill.integrations.payments.base import CardDetails, TokenizationError

from .services import MethodRefused, method_add, method_remove, method_set_role, methods_for

router = Router()


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
    exp_month: CardDatePart
    exp_year: CardDatePart
    cvc: str
    holder: str = ""


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


@router.get("/payment-methods", response=list[MethodOut], summary="Saved payment methods")
def payment_methods_list(request: HttpRequest):
    return [_method_out(method) for method in methods_for(customer_of(request))]


@router.post("/payment-methods", response={201: MethodOut, 422: Problem}, summary="Save a card")
def payment_methods_add(request: HttpRequest, body: MethodIn):
    try:
        method = method_add(
            customer=customer_of(request),
            card=CardDetails(body.number, body.exp_month, body.exp_year, body.cvc, body.holder),
            actor=request.user,
        )
    except TokenizationError as exc:
        raise MethodRefused(reason=str(exc)) from None
    return Status(201, _method_out(method))


@router.delete("/payment-methods/{method_id}", response={204: None, 404: Problem}, summary="Remove a saved method")
def payment_methods_remove(request: HttpRequest, method_id: Id):
    method_remove(method=payment_method_for(request, method_id), actor=request.user)
    return Status(204, None)


@router.post(
    "/payment-methods/{method_id}/{role}",
    response={200: MethodOut, 404: Problem, 422: Problem},
    summary="Make a saved method the default or the backup",
)
def payment_methods_role(request: HttpRequest, method_id: Id, role: str):
    return _method_out(method_set_role(method=payment_method_for(request, method_id), role=role, actor=request.user))
