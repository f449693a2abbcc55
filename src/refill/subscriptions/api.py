"""API v1: usage, from the network (``POST /usage-records``, a key with ``usage:write``) and per day
for charts (docs/api.md, "Usage records")."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from pydantic import BaseModel

from refill.api.auth import CUSTOMERS_AND_KEYS, api_key_auth, require_scope
from refill.api.owned import line_for
from refill.api.problems import Problem
from refill.api.types import Moment, SmallInt, UsageAmount

from .usage import Usage, usage_apply, usage_daily

router = Router()


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


@router.post(
    "/usage-records",
    response={200: UsageBatchOut, 401: None, 403: Problem, 422: Problem},
    auth=[api_key_auth],
    summary="Usage records from the network (up to 1,000 a request), each applied once by its id",
)
def usage_records_post(request: HttpRequest, body: UsageBatchIn):
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


@router.get(
    "/lines/{msisdn}/usage",
    response={200: list[UsageDayOut], 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="Daily usage of a line (last 30 days by default), for charts",
)
def usage_daily_get(request: HttpRequest, msisdn: str, days: SmallInt = 30):
    line = line_for(request, msisdn, "read")
    return [{**day, "date": day["date"].isoformat()} for day in usage_daily(line, days=max(1, min(days, 92)))]
