"""Public API v1 (docs/api.md). Errors are RFC 9457 problem details with a stable ``code`` and a
``detail`` translated by Accept-Language."""

from __future__ import annotations

import json
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema, Status
from ninja.openapi.docs import Swagger
from pydantic import BaseModel

from refill.api.auth import CUSTOMERS, CUSTOMERS_AND_KEYS, api_key_auth, require_scope
from refill.api.auth import customer_of as _customer_of
from refill.api.errors import exception_handlers_add
from refill.api.openapi import RefillAPI
from refill.api.owned import line_for as _line_for
from refill.api.pagination import page as _page
from refill.api.problems import Problem, RefusingParser
from refill.api.types import Moment, SmallInt, UsageAmount
from refill.catalog.api import router as catalog_router
from refill.orders.api import router as orders_router
from refill.payments.api import router as payments_router
from refill.renewals.api import router as renewals_router
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


# Gift refills -------------------------------------------------------------------------------------


# Auto-renew ------------------------------------------------------------------------------------


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


for router in (vouchers_router, payments_router, orders_router, renewals_router, catalog_router):
    api.add_router("", router)
