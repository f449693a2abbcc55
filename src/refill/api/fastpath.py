"""The API's hottest read, ``GET /api/v1/lines/{msisdn}`` by a partner's key (the network's and
resellers' systems poll it), answered early in the middleware stack with two SQL statements and no
ORM: the same answer, byte for byte, as the full view (tests/integration/api/test_fastpath.py).

Only the plain success is answered here: a request with anything else about it (no key, an app
token or session, a key without ``read``, an unknown number, over its rate limit) goes on down the
full stack, which answers it as it always does. The rate limit is counted here, once, for the
requests answered here. docs/api.md and docs/benchmarks.md say why."""

from __future__ import annotations

import json
import re
import time

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.utils import timezone, translation

from refill.api.callers import api_key_of
from refill.api.ratelimit import count, key_caller
from refill.catalog.models import Plan
from refill.domain.lifecycle import LineStatus
from refill.lines.models import STATUS_LABELS as labels
from refill.lines.models import Line
from refill.ops.bulk import aware
from refill.subscriptions.models import Bucket, Period

PATH = re.compile(r"^/api/v1/lines/(\+[0-9]{6,15})$")


def _status_label(status: str) -> str:
    return str(labels[LineStatus(status)])


def _sql() -> str:
    q = connection.ops.quote_name
    line, plan, period, bucket = (q(m._meta.db_table) for m in (Line, Plan, Period, Bucket))
    # The line and the plan of the period running now (else the line's plan), as the view's
    # line_current_plan does.
    line_sql = (
        f"SELECT l.id, l.msisdn, l.status, l.sim_type, l.period_end, p.code, p.name_en, p.name_zh_hans "
        f"FROM {line} l LEFT JOIN {plan} p ON p.id = COALESCE(("
        f"SELECT pe.plan_id FROM {period} pe WHERE pe.line_id = l.id AND pe.start <= %s AND pe.{q('end')} > %s "
        f"AND (pe.revoked_at IS NULL OR pe.revoked_at > %s) ORDER BY pe.start, pe.id LIMIT 1), l.plan_id) "
        f"WHERE l.msisdn = %s AND l.status NOT IN ('available', 'ported_out')"
    )
    # The line and its buckets in one statement (one round trip).
    combined = (
        f"SELECT ln.*, b.kind, b.granted, b.used, b.unlimited, b.expires_at FROM ({line_sql}) ln "
        f"LEFT JOIN {bucket} b ON b.line_id = ln.id AND b.valid_from <= %s AND b.expires_at > %s "
        f"AND (b.revoked_at IS NULL OR b.revoked_at > %s) ORDER BY b.expires_at, b.id"
    )
    return combined


_statements: dict[str, str] = {}


class LineReadFastPath:
    def __init__(self, get_response):
        self.get_response = get_response
        self.finishers = [ContentSecurityPolicyMiddleware(get_response), XFrameOptionsMiddleware(get_response)]
        self.finished_headers: list[tuple[str, str]] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET":
            return self.get_response(request)
        match = PATH.match(request.path_info)
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        if match is None or not auth.startswith("Bearer rfk_") or "HTTP_X_SESSION_TOKEN" in request.META:
            return self.get_response(request)
        response = self._answer(request, match.group(1), auth[7:].strip())
        return response if response is not None else self.get_response(request)

    @staticmethod
    def _read(statement: str, msisdn: str):
        """The line's row (or None) and its buckets, in one statement. On PostgreSQL it also stands
        in for the connection's per-request health check: a dead connection fails it, and the
        caller leaves the request to the full stack."""
        now = timezone.now()
        params = [now, now, now, msisdn, now, now, now]
        if connection.vendor == "postgresql":
            connection.health_check_done = True
            connection.ensure_connection()
            # A server-side prepared statement: planned once per connection, not per request.
            with connection.wrap_database_errors, connection.connection.cursor() as cursor:
                rows = cursor.execute(statement, params, prepare=True).fetchall()
        else:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                rows = cursor.fetchall()
        if not rows:
            return None, []
        return rows[0][:8], [row[8:] for row in rows if row[8] is not None]

    def _answer(self, request: HttpRequest, msisdn: str, token: str) -> HttpResponse | None:
        key = api_key_of(request, token)
        if key is None or not key.has_scope("read"):
            return None
        limits = settings.REFILL_API_RATE_LIMITS
        used = None
        if limits["enabled"]:
            now_s = int(time.time())
            used = count(key_caller(key.prefix), now_s - now_s % limits["window"], limits["key"])
        statement = _statements.get(connection.vendor) or _statements.setdefault(connection.vendor, _sql())
        try:
            row, buckets = self._read(statement, msisdn)
        except (InterfaceError, OperationalError):
            connection.close()
            row, buckets = None, []
        if used is not None:
            # Counted once: the full stack, if it answers instead, does not count it again.
            request.refill_rate_counted = used
            if used > limits["key"]:
                return None  # the full stack refuses it (429)
        if row is None:
            return None  # not a held number (or the connection died): the full stack answers
        line_id, number, status, sim_type, period_end, plan_code, name_en, name_zh = row
        language = translation.get_language_from_request(request)
        with translation.override(language):
            label = _status_label(status)
        body = {
            "msisdn": number,
            "status": status,
            "status_label": label,
            "sim_type": sim_type,
            "plan": plan_code,
            "plan_name": name_zh if language == "zh-hans" else name_en,
            "period_end": aware(period_end),
            "buckets": [
                {
                    "kind": kind,
                    "granted": granted,
                    "used": spent,
                    "remaining": max(granted - spent, 0),
                    "unlimited": bool(unlimited),
                    "expires_at": aware(expires_at),
                }
                for kind, granted, spent, unlimited, expires_at in buckets
            ],
        }
        # Rendered as django-ninja renders the full view's answer.
        response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), content_type="application/json; charset=utf-8")
        response["Content-Language"] = language
        response["Vary"] = "Accept-Language, Cookie"
        response["Content-Length"] = str(len(response.content))
        if used is not None:
            response["RateLimit-Limit"] = str(limits["key"])
            response["RateLimit-Remaining"] = str(max(limits["key"] - used, 0))
        # The headers the skipped middlewares would have added (CSP, X-Frame-Options): the same for
        # every answer here, so worked out by them once.
        if self.finished_headers is None:
            sample = HttpResponse()
            for finisher in self.finishers:
                sample = finisher.process_response(request, sample)
            self.finished_headers = [(n, v) for n, v in sample.items() if n not in ("Content-Type",)]
        for name, value in self.finished_headers:
            response[name] = value
        return response
