"""API v1: a customer's lines, and one line for its owner or a key with ``read`` (docs/api.md,
"Lines"). A key's plain ``GET /lines/{msisdn}`` is answered earlier, byte for byte the same, by
``refill.api.fastpath``."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from refill.api.auth import CUSTOMERS_AND_KEYS, customer_of
from refill.api.owned import line_for
from refill.api.pagination import page, page_limit
from refill.api.problems import Problem
from refill.api.types import SmallInt
from refill.subscriptions.selectors import buckets_now, line_current_plan

from .models import Line

router = Router()


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


@router.get("/lines", response={200: LinePage, 403: Problem, 422: Problem}, summary="Your lines, a page at a time")
def lines_list(request: HttpRequest, cursor: str = "", limit: SmallInt = 50):
    lines = Line.objects.filter(owner=customer_of(request)).exclude(status__in=["available", "ported_out"])
    items, next_cursor = page(lines.select_related("plan", "market"), cursor, page_limit(limit))
    now = timezone.now()
    return {"items": [_line_out(line, now) for line in items], "next_cursor": next_cursor}


@router.get(
    "/lines/{msisdn}",
    response={200: LineOut, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="A line: status, plan, period end and balances",
)
def lines_get(request: HttpRequest, msisdn: str):
    return _line_out(line_for(request, msisdn, "read"), timezone.now())
