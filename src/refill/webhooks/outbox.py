"""Webhooks out: events written with the change that caused them (in the same transaction), then
delivered by a sweep to each subscribed endpoint, signed, and retried with growing pauses for at
least 24 hours.

Each delivery is a JSON POST with these headers:
- ``Refill-Event-Id`` (for dedupe) and ``Refill-Event-Type``;
- ``Refill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's
  secret>``.

Receivers check the signature and that ``t`` is recent (docs/api.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.errors import RefillError
from refill.integrations import http_guard

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

EVENTS = {
    "order.paid": _("An order was paid"),
    "renewal.succeeded": _("An auto-renewal succeeded"),
    "renewal.failed": _("An auto-renewal failed"),
    "esim.installed": _("An eSIM was installed on a phone"),
    "voucher.redeemed": _("A refill PIN was redeemed"),
    "line.expiring": _("A line's paid period ends within 7, 3 or 1 days"),
    "line.status_changed": _("A line moved along its lifecycle"),
}
RETRY_FOR = timedelta(hours=24)
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=6)
TIMEOUT = 10  # seconds per attempt


class InvalidEndpoint(RefillError):
    code = "invalid_webhook_endpoint"
    message = _("Give the endpoint a name, an https:// URL and at least one event.")


def _schemes() -> tuple[str, ...]:
    return ("https",) if not settings.DEBUG and not settings.REFILL_DEMO else ("https", "http")


def endpoint_create(*, name: str, url: str, events: list[str], actor) -> WebhookEndpoint:
    """Save a partner's endpoint. Its URL must reach a public address (or a host the operator
    allowed, REFILL_WEBHOOK_ALLOWED_HOSTS): http_guard says why not, in words staff can act on."""
    url = url.strip()
    if not name.strip() or not url.lower().startswith(tuple(f"{s}://" for s in _schemes())):
        raise InvalidEndpoint()
    if not events or any(e not in EVENTS for e in events) or len(url) > 500:
        raise InvalidEndpoint()
    http_guard.url_check(url, schemes=_schemes())
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            name=name.strip()[:100], url=url[:500], secret="whsec_" + secrets.token_hex(24), events=sorted(set(events)),
            created_by=actor,
        )  # fmt: skip
        audit_record(actor=actor, action="webhook.endpoint_created", obj=endpoint, data={"url": endpoint.url})
    return endpoint


def webhook_emit(event_type: str, payload: dict, *, now: datetime | None = None) -> WebhookEvent | None:
    """Record an event and one delivery per active endpoint subscribed to it. Call it inside the
    transaction of the change it reports: no event without the change, no change without it."""
    events = webhook_emit_many(event_type, [payload], now=now)
    return events[0] if events else None


def webhook_emit_many(
    event_type: str, payloads: list[dict], *, now: datetime | None = None, keys: list[str] | None = None
) -> list[WebhookEvent]:
    """webhook_emit for many changes of one kind (batch work): a few statements in all, and one
    query when nobody subscribed. Events found by a sweep pass ``keys`` (one per payload): an
    event whose key was written before is left out, so a sweep that runs twice says nothing twice."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if event_type in e.events]
    if not endpoints or not payloads:
        return []
    now = now or timezone.now()
    wanted = list(zip(payloads, keys or [None] * len(payloads), strict=True))
    if keys:
        known = set(WebhookEvent.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        wanted = [(payload, key) for payload, key in wanted if key not in known]
    events = [
        WebhookEvent(
            id=uuid.uuid4(), type=event_type, payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
            created_at=now, dedupe_key=key,
        )
        for payload, key in wanted
    ]  # fmt: skip
    try:
        with transaction.atomic():
            WebhookEvent.objects.bulk_create(events)
    except IntegrityError:
        # Another sweep wrote some of these keys meanwhile: keep those this call writes alone.
        events = [event for event in events if _insert_once(event)]
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now, created_at=now)
        for event in events
        for endpoint in endpoints
    )
    return events


def _insert_once(event: WebhookEvent) -> bool:
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _pause(attempts: int) -> timedelta:
    return min(FIRST_PAUSE * (2 ** max(attempts - 1, 0)), LONGEST_PAUSE)


def webhooks_deliver(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send the deliveries that are due (each claimed with SKIP LOCKED, so sweeps on several
    machines share them); returns how many were accepted."""
    now = now or timezone.now()
    accepted = 0
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .select_related("endpoint", "event")
            .order_by("next_attempt_at", "pk")[:limit]
        )
        # Claimed: pushed out of the way for the time an attempt may take, then sent outside the lock.
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
            next_attempt_at=now + timedelta(seconds=TIMEOUT * 3)
        )
    for delivery in due:
        accepted += _attempt(delivery, now)
    return accepted


def _attempt(delivery: WebhookDelivery, now: datetime) -> bool:
    event, endpoint = delivery.event, delivery.endpoint
    body = json.dumps(
        {"id": str(event.id), "type": event.type, "created_at": event.created_at.isoformat(), "data": event.payload}
    ).encode()
    stamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "Refill-Webhooks/1",
               "Refill-Event-Id": str(event.id), "Refill-Event-Type": event.type,
               "Refill-Signature": sign(endpoint.secret, stamp, body)}  # fmt: skip
    started, code, error = time.monotonic(), None, ""
    try:
        # Checked and resolved again now, sent to the checked address, redirects not followed (a
        # 3xx is a failed attempt); the stored error is generic, never the OS's words.
        code = http_guard.post(endpoint.url, body=body, headers=headers, timeout=TIMEOUT, schemes=_schemes())
    except http_guard.DeliveryFailed as exc:
        error = exc.reason
    ok = code is not None and 200 <= code < 300
    attempts = delivery.attempts + 1
    with transaction.atomic():
        if not WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).exists():
            return False  # its endpoint was deleted while this attempt was under way
        WebhookAttempt.objects.create(
            delivery=delivery, at=now, status_code=code, error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )  # fmt: skip
        if ok:
            status, next_at = WebhookDelivery.Status.SUCCEEDED, now
        elif now - delivery.created_at >= RETRY_FOR:
            status, next_at = WebhookDelivery.Status.FAILED, now  # retried for a day: given up
        else:
            status, next_at = WebhookDelivery.Status.PENDING, now + _pause(attempts)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=attempts, next_attempt_at=next_at, delivered_at=now if ok else None
        )
    if not ok:
        logger.info("webhook %s to %s failed (%s); attempt %s", event.id, endpoint.url, error or code, attempts)
    return ok


def endpoint_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    """Remove a partner's endpoint with its deliveries and their attempt log (nothing more is sent
    to it). The audit trail keeps what it was and how many deliveries went with it; the events
    stay, other endpoints may have had them."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
        counts = {status: deliveries.filter(status=status).count() for status in WebhookDelivery.Status.values}
        WebhookAttempt.objects.filter(delivery__endpoint=endpoint).delete()
        deliveries.delete()
        audit_record(
            actor=actor, action="webhook.endpoint_deleted", obj=endpoint,
            data={"name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "deliveries": counts},
        )  # fmt: skip
        endpoint.delete()


def delivery_replay(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery again (whatever became of it), from the back office."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
        )
        audit_record(actor=actor, action="webhook.replayed", obj=delivery, data={"event": str(delivery.event_id)})
    delivery.refresh_from_db()
    return delivery
