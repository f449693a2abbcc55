"""Rate limits for /api/v1/: per API key, and per address for everyone else, counted in fixed
windows in the database (one statement a request, shared by every process). Over the limit: 429
with Retry-After, as an RFC 9457 problem."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .models import RateWindow
from .problems import problem_response


def _caller(request: HttpRequest) -> tuple[str, int]:
    """Who is counted and their limit per window: a key by its public prefix, else the address."""
    limits = settings.REFILL_API_RATE_LIMITS
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer rfk_"):
        prefix = auth[len("Bearer rfk_") :].partition("_")[0][:12]
        return f"key:{prefix}", limits["key"]
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"[:60], limits["ip"]


def count(caller: str, window: int) -> int:
    q = connection.ops.quote_name
    table = q(RateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('caller')}, {q('window_start')}, {q('count')}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({q('caller')}, {q('window_start')}) DO UPDATE SET {q('count')} = {table}.{q('count')} + 1 "
            f"RETURNING {q('count')}",
            [caller, window],
        )
        return cursor.fetchone()[0]


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/v1/") or not settings.REFILL_API_RATE_LIMITS["enabled"]:
            return self.get_response(request)
        seconds = settings.REFILL_API_RATE_LIMITS["window"]
        now = int(time.time())
        window = now - now % seconds
        caller, limit = _caller(request)
        used = count(caller, window)
        if used > limit:
            response = problem_response(429, "rate_limited", _("Too many requests. Wait a moment and try again."))
            response["Retry-After"] = str(window + seconds - now)
            return response
        response = self.get_response(request)
        response["RateLimit-Limit"] = str(limit)
        response["RateLimit-Remaining"] = str(max(limit - used, 0))
        return response


def rate_windows_sweep() -> int:
    """Forget windows older than an hour."""
    deleted, _ = RateWindow.objects.filter(window_start__lt=int(time.time()) - 3600).delete()
    return deleted
