"""API v1: the plans on sale (docs/api.md, "Plans")."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from refill.api.auth import CUSTOMERS_AND_KEYS, require_scope
from refill.api.pagination import page, page_limit
from refill.api.problems import Problem
from refill.api.types import SmallInt
from refill.domain.money import quantize

from .models import Plan

router = Router()


class PlanOut(Schema):
    code: str
    market: str
    kind: str
    name: str
    validity_kind: str
    validity_count: int
    data_mb: int | None
    voice_minutes: int | None
    sms: int | None
    price: Decimal | None
    currency: str
    max_prepaid_periods: int


class PlanPage(Schema):
    items: list[PlanOut]
    next_cursor: str | None


@router.get(
    "/plans",
    response={200: PlanPage, 403: Problem, 422: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="Plans on sale (filter by market and kind), a page at a time",
)
def plans_list(request: HttpRequest, market: str = "", kind: str = "", cursor: str = "", limit: SmallInt = 50):
    require_scope(request, "read")
    plans = Plan.objects.filter(is_active=True).select_related("market")
    if market:
        plans = plans.filter(market__code=market)
    if kind:
        plans = plans.filter(kind=kind)
    items, next_cursor = page(plans, cursor, page_limit(limit))
    out = []
    for plan in items:
        price = plan.current_price(plan.market.currency)
        out.append(
            {
                "code": plan.code, "market": plan.market.code, "kind": plan.kind, "name": plan.name,
                "validity_kind": plan.validity_kind, "validity_count": plan.validity_count, "data_mb": plan.data_mb,
                "voice_minutes": plan.voice_minutes, "sms": plan.sms,
                "price": quantize(price.amount, price.currency) if price else None,
                "currency": plan.market.currency, "max_prepaid_periods": plan.max_prepaid_periods,
            }
        )  # fmt: skip
    return {"items": out, "next_cursor": next_cursor}
