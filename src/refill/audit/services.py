from __future__ import annotations

from typing import Any

from django.db import models

from refill.ops.bulk import bulk_insert, unsaved
from refill.ops.request_context import current_client_ip, current_request_id

from .models import AuditEvent


def audit_event(
    *, actor: Any, action: str, obj: models.Model, reason: str = "", data: dict | None = None
) -> AuditEvent:
    """The (unsaved) audit row for ``action`` on ``obj``, with the current request's id and client
    address (none outside a request); ``audit_record`` and ``audit_records`` write them."""
    actor_user = actor if getattr(actor, "pk", None) and hasattr(actor, "is_staff") else None
    label = str(actor) if actor is not None else "system"
    return unsaved(
        AuditEvent,
        actor=actor_user,
        actor_label=label[:100],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        reason=reason,
        request_id=current_request_id(),
        ip=current_client_ip(),
        data=data or {},
    )


def audit_records(events: list[AuditEvent]) -> list[AuditEvent]:
    """Write many audit rows in one statement (batch work: auto-renew, bulk renewals)."""
    return bulk_insert(events)


def audit_record(
    *, actor: Any, action: str, obj: models.Model, reason: str = "", data: dict | None = None
) -> AuditEvent:
    event = audit_event(actor=actor, action=action, obj=obj, reason=reason, data=data)
    event.save(force_insert=True)
    return event
