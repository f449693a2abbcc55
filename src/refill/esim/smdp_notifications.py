"""The SM-DP+'s download progress notifications (ES2+ HandleDownloadProgressInfo): each applied
once to its profile and eSIM order, recorded whatever its outcome; a replay returns the first
record."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from refill.domain.esim import (
    IllegalProfileTransition,
    NotificationPoint,
    SmdpState,
    after_notification,
)
from refill.errors import RefillError
from refill.events import emit_many

from .models import EsimOrder, Profile, ProfileEvent

logger = logging.getLogger(__name__)


_ORDER_STATUS = {
    SmdpState.DOWNLOADED: (EsimOrder.Status.DOWNLOADED, "downloaded_at"),
    SmdpState.INSTALLED: (EsimOrder.Status.INSTALLED, "installed_at"),
    SmdpState.ERROR: (EsimOrder.Status.FAILED, "finished_at"),
}


class BadNotification(RefillError):
    code = "bad_notification"
    message = _("The notification is missing a field or has a wrong one.")


def esim_notification(*, requester: str, body: dict) -> ProfileEvent:
    """Apply a HandleDownloadProgressInfo notification once: a replay (same requester and call
    identifier) returns the first record; one behind what is known changes nothing; one that makes
    no sense for the profile is refused and logged. Every one is recorded."""
    header = body.get("header") or {}
    call_id = str(header.get("functionCallIdentifier") or "")
    status = body.get("notificationPointStatus") or {}
    try:
        point = int(body["notificationPointId"])
        iccid = str(body["iccid"]).upper().rstrip("F")
        occurred = parse_datetime(str(body["timestamp"]))
        outcome_status = str(status["status"])
    except (KeyError, TypeError, ValueError):
        raise BadNotification() from None
    if not call_id or occurred is None or not iccid:
        raise BadNotification()
    seen = ProfileEvent.objects.filter(requester=requester, call_id=call_id).first()
    if seen is not None:
        return seen
    succeeded = outcome_status in ("Executed-Success", "Executed-WithWarning")
    eid = str(body.get("eid") or "")[:32]
    now = timezone.now()
    event = ProfileEvent(
        requester=requester[:100],
        call_id=call_id[:64],
        iccid=iccid[:20],
        point=point,
        succeeded=succeeded,
        eid=eid,
        occurred_at=occurred,
        received_at=now,
        payload=body,
    )
    try:
        with transaction.atomic():
            profile = Profile.objects.select_for_update().filter(iccid=iccid).first()
            event.profile = profile
            if profile is None:
                event.outcome, event.detail = ProfileEvent.Outcome.REFUSED, "unknown ICCID"
            elif point not in NotificationPoint._value2member_map_:
                event.outcome, event.detail = ProfileEvent.Outcome.UNCHANGED, f"point {point} not followed"
            else:
                _apply(profile, event, NotificationPoint(point), succeeded, eid, now)
            event.save(force_insert=True)
    except IntegrityError:
        # The same notification, applied at this moment by another process.
        return ProfileEvent.objects.get(requester=requester, call_id=call_id)
    if event.outcome == ProfileEvent.Outcome.REFUSED:
        logger.warning("SM-DP+ notification refused: %s point %s (%s)", iccid, point, event.detail)
    return event


def _apply(profile: Profile, event: ProfileEvent, point: NotificationPoint, succeeded: bool, eid: str, now) -> None:
    order = (
        EsimOrder.objects.select_for_update()
        .filter(profile=profile)
        .exclude(status=EsimOrder.Status.CANCELLED)
        .order_by("-created_at", "-pk")
        .first()
    )
    event.order = order
    state = SmdpState(profile.smdp_state)
    if (
        not succeeded
        and eid
        and profile.eid
        and eid != profile.eid
        and state in (SmdpState.DOWNLOADED, SmdpState.INSTALLED)
    ):
        # Another phone tried the code after this one downloaded it: refused there, nothing lost here.
        event.outcome, event.detail = ProfileEvent.Outcome.UNCHANGED, "another device was refused"
        return
    try:
        target = after_notification(state, point, succeeded)
    except IllegalProfileTransition as exc:
        event.outcome, event.detail = ProfileEvent.Outcome.REFUSED, str(exc)[:200]
        return
    if target is None:
        event.outcome = ProfileEvent.Outcome.UNCHANGED
        event.detail = "already known" if succeeded else "failure of an older attempt"
        return
    profile.smdp_state, profile.smdp_state_at = target, now
    fields = ["smdp_state", "smdp_state_at"]
    if target in (SmdpState.DOWNLOADED, SmdpState.INSTALLED) and (order is None or not order.downloaded_at):
        profile.downloads += 1  # one download, however many notifications tell of it
        fields.append("downloads")
    if eid and target != SmdpState.DELETED:
        profile.eid = eid
        fields.append("eid")
    profile.save(update_fields=fields)
    if order is not None and target in _ORDER_STATUS:
        status, stamp = _ORDER_STATUS[target]
        order.status = status
        setattr(order, stamp, now)
        changed = ["status", stamp]
        if target == SmdpState.INSTALLED and not order.downloaded_at:
            order.downloaded_at = now  # the download's own notification is late or lost
            changed.append("downloaded_at")
        if eid:
            order.eid = eid
            changed.append("eid")
        if status == EsimOrder.Status.FAILED:
            order.error_code = _failure_code(event.payload)
            changed.append("error_code")
        order.save(update_fields=changed)
    if target == SmdpState.INSTALLED and profile.line_id:
        emit_many(
            "esim.installed",
            [{"line_id": profile.line_id, "customer_id": profile.line.owner_id,
              "msisdn": profile.line.msisdn, "iccid": profile.iccid, "installed_at": now, "reissue": bool(
                order and order.reason in (EsimOrder.Reason.REISSUE, EsimOrder.Reason.REINSTALL))}],
            now=now,
        )  # fmt: skip
    event.outcome, event.detail = ProfileEvent.Outcome.APPLIED, f"{target}"


def _failure_code(body: dict) -> str:
    data = (body.get("notificationPointStatus") or {}).get("statusCodeData") or {}
    return f"{data.get('subjectCode', '')}/{data.get('reasonCode', '')}"[:40]
