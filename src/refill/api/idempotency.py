"""Idempotency-Key for the API (docs/api.md): the same key with the same request replays the first
answer for at least 24 hours; the same key with another request is refused (422); the same key
while the first request is still running is refused (409).

Kept per caller (signed-in user, API key, or the IP address of an anonymous caller). Only
successful answers (2xx) are kept, as Stripe does: a refusal (4xx: invalid, not found, declined,
price changed) or a server error changed nothing, so the request may be corrected and sent again
with the same key."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refill.errors import RefillError, problem_response

from .callers import api_key_of, app_user_of
from .models import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)  # a request whose process died frees its key after this
# POSTs that move money or grant service: they must carry a key.
REQUIRED = [
    re.compile(r"^/api/v1/orders$"),
    re.compile(r"^/api/v1/vouchers/redeem$"),
    re.compile(r"^/api/v1/refills$"),
    re.compile(r"^/api/v1/lines/[^/]+/esim/reissue$"),
]
MAX_KEY = 255
ANONYMOUS = {"/api/v1/refills"}  # paid by anyone, without an account


class IdempotencyKeyMissing(RefillError):
    code = "idempotency_key_required"
    message = gettext_lazy("Send an Idempotency-Key header with every request that pays or renews.")


def idempotency_key(request: HttpRequest) -> str:
    """The caller's ``Idempotency-Key`` for an operation that pays or renews (it must send one)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise IdempotencyKeyMissing()
    return key


def _owner(request: HttpRequest) -> str:
    user = app_user_of(request, request.headers.get("X-Session-Token", ""))
    if user is not None:
        return f"user:{user.pk}"
    auth = request.headers.get("Authorization", "")
    key = api_key_of(request, auth[7:].strip()) if auth.startswith("Bearer ") else None
    if key is not None:
        return f"key:{key.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"[:40]


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("POST", "PATCH") or not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            # Asked of callers who may use the endpoint; an anonymous one is refused by the endpoint.
            required = request.method == "POST" and any(pattern.match(request.path) for pattern in REQUIRED)
            if required and (not _owner(request).startswith("ip:") or request.path in ANONYMOUS):
                return problem_response(
                    422, "idempotency_key_required",
                    _("Send an Idempotency-Key header with every request that pays or renews."),
                )  # fmt: skip
            return self.get_response(request)
        if len(key) > MAX_KEY:
            return problem_response(422, "idempotency_key_invalid", _("An Idempotency-Key has at most 255 characters."))
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.path.encode(), request.body])
        ).hexdigest()
        owner = _owner(request)
        record, answer = self._claim(owner, key, request, fingerprint)
        if answer is not None:
            return answer
        try:
            response = self.get_response(request)
        except Exception:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if not 200 <= response.status_code < 300 or getattr(response, "streaming", False):
            IdempotencyRecord.objects.filter(pk=record.pk).delete()  # nothing kept: the key may be used again
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            status=response.status_code,
            content_type=response.get("Content-Type", "")[:100],
            body=response.content,
            completed_at=timezone.now(),
        )
        return response

    def _claim(self, owner: str, key: str, request: HttpRequest, fingerprint: str):
        """The record this request now owns, or the answer to give instead (replay or refusal)."""
        now = timezone.now()
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        owner=owner, key=key, method=request.method, path=request.path[:255], fingerprint=fingerprint,
                        created_at=now,
                    )  # fmt: skip
                return record, None
            except IntegrityError:
                pass
            first = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if first is None:
                continue  # deleted meanwhile (a decline, an error): claim it now
            stale = now - first.created_at > KEEP_FOR and first.state == IdempotencyRecord.State.DONE
            abandoned = first.state == IdempotencyRecord.State.IN_FLIGHT and now - first.created_at > ABANDONED_AFTER
            if stale or abandoned:
                IdempotencyRecord.objects.filter(pk=first.pk, state=first.state).delete()
                continue
            if first.fingerprint != fingerprint:
                return None, problem_response(
                    422, "idempotency_key_reused",
                    _("This Idempotency-Key was used for a different request. Use a new key for a new request."),
                )  # fmt: skip
            if first.state == IdempotencyRecord.State.IN_FLIGHT:
                response = problem_response(
                    409, "idempotency_key_in_use",
                    _("A request with this Idempotency-Key is still being processed. Try again in a moment."),
                )  # fmt: skip
                response["Retry-After"] = "1"
                return None, response
            replay = HttpResponse(bytes(first.body), status=first.status, content_type=first.content_type or None)
            replay["Idempotent-Replayed"] = "true"
            return None, replay
        return None, problem_response(409, "idempotency_key_in_use", _("Try again in a moment."))


def idempotency_records_sweep(*, now=None) -> int:
    """Forget answers older than twice the promised 24 hours."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - 2 * KEEP_FOR).delete()
    return deleted
