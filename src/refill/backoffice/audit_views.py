"""The audit log: who did what to which object, when, from where, before and after; searchable,
a page at a time or as CSV. Read only: the database refuses to change an audit row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.models import AuditEvent
from refill.customers.staff import require_perm
from refill.ops.safetext import csv_response

PER_PAGE = 50
PERMISSION = "audit.view_auditevent"
DATE = {"type": "date"}


class AuditFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Actor, action, object (type:id), reason or request id."),
    )
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("“promotion” finds promotion.created, promotion.paused…; end with * for any prefix."),
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=100)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False)
    # A date input takes and shows ISO dates whatever the language.
    date_from = forms.DateField(label=_("From date"), required=False, widget=forms.DateInput(DATE, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("To date"), required=False, widget=forms.DateInput(DATE, format="%Y-%m-%d"))


def _day_start(day: date) -> datetime:
    """Midnight starting ``day`` in the active time zone (the staff member's)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _action_filter(action: str) -> Q:
    if action.endswith("*"):
        return Q(action__startswith=action[:-1])
    return Q(action=action) | Q(action__startswith=f"{action.rstrip('.')}.")


def _search_filter(text: str) -> Q:
    found = (
        Q(actor_label__icontains=text)
        | Q(action__icontains=text)
        | Q(object_type__icontains=text)
        | Q(object_id=text)
        | Q(reason__icontains=text)
        | Q(request_id=text)
    )
    object_type, colon, object_id = text.rpartition(":")
    if colon and object_type and object_id:
        found |= Q(object_type=object_type.strip().lower(), object_id=object_id.strip())
    return found


def audit_events(filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Audit rows matching the (cleaned) filter form, newest first."""
    events = AuditEvent.objects.order_by("-at", "-pk")
    if text := filters.get("q", "").strip():
        events = events.filter(_search_filter(text))
    if action := filters.get("action", "").strip():
        events = events.filter(_action_filter(action))
    if actor := filters.get("actor", "").strip():
        events = events.filter(Q(actor_label__icontains=actor) | Q(actor__email__icontains=actor))
    if object_type := filters.get("object_type", "").strip():
        events = events.filter(object_type=object_type.lower())
    if object_id := filters.get("object_id", "").strip():
        events = events.filter(object_id=object_id)
    if ip := filters.get("ip"):
        events = events.filter(ip=ip)
    if date_from := filters.get("date_from"):
        events = events.filter(at__gte=_day_start(date_from))
    if date_to := filters.get("date_to"):
        events = events.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return events


@dataclass(frozen=True)
class Page:
    """One page of a keyset walk through the log (``at`` then ``pk``, newest first): no count of
    the whole table, and a page stays put while new rows arrive."""

    events: list[AuditEvent]
    newer: int | None  # ``after`` for the page before this one
    older: int | None  # ``before`` for the page after this one


def _cursor(value: str | None) -> AuditEvent | None:
    return AuditEvent.objects.filter(pk=value).only("pk", "at").first() if value and value.isdigit() else None


def audit_page(events: QuerySet[AuditEvent], *, before: str | None, after: str | None) -> Page:
    """The PER_PAGE rows of ``events`` older than the row ``before``, or newer than ``after``
    (closest first), or the newest ones."""
    events = events.select_related("actor")
    if anchor := _cursor(before):
        rows = list(events.filter(Q(at__lt=anchor.at) | Q(at=anchor.at, pk__lt=anchor.pk))[: PER_PAGE + 1])
        more_older, more_newer = len(rows) > PER_PAGE, True
        rows = rows[:PER_PAGE]
    elif anchor := _cursor(after):
        rows = list(
            events.filter(Q(at__gt=anchor.at) | Q(at=anchor.at, pk__gt=anchor.pk)).order_by("at", "pk")[: PER_PAGE + 1]
        )
        more_older, more_newer = True, len(rows) > PER_PAGE
        rows = rows[:PER_PAGE][::-1]
    else:
        rows = list(events[: PER_PAGE + 1])
        more_older, more_newer = len(rows) > PER_PAGE, False
        rows = rows[:PER_PAGE]
    return Page(
        events=rows,
        newer=rows[0].pk if rows and more_newer else None,
        older=rows[-1].pk if rows and more_older else None,
    )


# Before and after -------------------------------------------------------------------------------

MISSING = object()


def _shown(value: Any) -> str:
    if value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class Change:
    key: str
    before: str
    after: str
    had_before: bool
    has_after: bool


@dataclass(frozen=True)
class Fact:
    key: str
    value: str


def data_changes(data: Any) -> tuple[list[Change], list[Fact]]:
    """An audit row's ``data`` for reading: the keys that differ between its "before" and "after"
    (when it has either as a dict), and every other key with its value."""
    if not isinstance(data, dict):
        return [], ([Fact("data", _shown(data))] if data not in (None, "", []) else [])
    before, after = data.get("before"), data.get("after")
    if not isinstance(before, dict) and not isinstance(after, dict):
        return [], [Fact(str(key), _shown(value)) for key, value in data.items()]
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    changes = []
    for key in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if old != new:
            changes.append(Change(str(key), _shown(old), _shown(new), old is not MISSING, new is not MISSING))
    facts = [Fact(str(key), _shown(value)) for key, value in data.items() if key not in ("before", "after")]
    return changes, facts


def data_summary(data: Any) -> str:
    """One line for the list: the changed keys, or the keys and values."""
    changes, facts = data_changes(data)
    parts = [change.key for change in changes] + [f"{fact.key}={fact.value}" for fact in facts]
    return ", ".join(parts)


# Pages ------------------------------------------------------------------------------------------


@require_perm(PERMISSION)
def audit_view(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    valid = form.is_valid()
    # An invalid filter (a malformed address or date) shows nothing rather than everything.
    events = audit_events(form.cleaned_data) if valid else AuditEvent.objects.none()
    if request.GET.get("format") == "csv":
        return _audit_csv(events)
    page = audit_page(events, before=request.GET.get("before"), after=request.GET.get("after"))
    rows = [(event, data_summary(event.data)) for event in page.events]
    return render(
        request,
        "backoffice/audit.html",
        {"form": form, "page": page, "rows": rows, "time_zone": timezone.get_current_timezone_name()},
        status=200 if valid else 400,
    )


def _audit_csv(events: QuerySet[AuditEvent]) -> HttpResponse:
    response, writer = csv_response("audit-log.csv")
    writer.writerow(
        ["id", "at", "actor_id", "actor", "action", "object_type", "object_id", "reason", "ip", "request_id", "data"]
    )
    for event in events.iterator(chunk_size=1000):
        writer.writerow(
            [
                event.pk,
                event.at.isoformat(),
                event.actor_id or "",
                event.actor_label,
                event.action,
                event.object_type,
                event.object_id,
                event.reason,
                event.ip or "",
                event.request_id,
                json.dumps(event.data, ensure_ascii=False, sort_keys=True, default=str),
            ]
        )
    return response


@require_perm(PERMISSION)
def audit_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(AuditEvent.objects.select_related("actor"), pk=pk)
    changes, facts = data_changes(event.data)
    return render(
        request,
        "backoffice/audit_detail.html",
        {
            "event": event,
            "changes": changes,
            "facts": facts,
            "raw": json.dumps(event.data, ensure_ascii=False, sort_keys=True, indent=2, default=str),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )
