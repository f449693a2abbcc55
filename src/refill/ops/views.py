from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from .models import Heartbeat


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def healthz(request):
    """200 when web, database and a task worker are all up; 503 naming what is not."""
    checks = {"web": "ok", "database": "ok" if _database_ok() else "down", "worker": "down"}
    if checks["database"] == "ok":
        beat = Heartbeat.objects.filter(name="worker").first()
        max_age = timedelta(seconds=settings.REFILL_WORKER_HEARTBEAT_MAX_AGE)
        if beat is not None and timezone.now() - beat.at <= max_age:
            checks["worker"] = "ok"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)


def readyz(request):
    ok = _database_ok()
    return JsonResponse({"status": "ok" if ok else "down"}, status=200 if ok else 503)
