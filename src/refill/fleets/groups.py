"""A business's groups of lines: named, renamed, deleted, and lines moved between them."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.lines.models import Line
from refill.ops.bulk import bulk_insert, unsaved
from refill.ops.safetext import clean_text

from .access import require_admin
from .errors import FleetRefused
from .models import GroupedLine, LineGroup


def group_save(*, customer, user, name: str, group: LineGroup | None = None) -> LineGroup:
    require_admin(user, customer)
    name = clean_text(name).strip()  # renamed from a raw form post: no form field cleans it
    if not name or len(name) > 60:
        raise FleetRefused(_("A group needs a name of at most 60 characters."))
    if LineGroup.objects.filter(customer=customer, name__iexact=name).exclude(pk=getattr(group, "pk", None)).exists():
        raise FleetRefused(_("There is already a group with this name."))
    with transaction.atomic():
        before = group.name if group else None
        if group is None:
            group = LineGroup.objects.create(customer=customer, name=name)
        else:
            group.name = name
            group.save(update_fields=["name"])
        audit_record(actor=user, action="fleet.group_save", obj=group, data={"before": before, "after": name})
    return group


def group_delete(*, group: LineGroup, user) -> None:
    require_admin(user, group.customer)
    with transaction.atomic():
        audit_record(actor=user, action="fleet.group_delete", obj=group, data={"name": group.name})
        group.delete()


def lines_group(*, customer, user, line_ids: list[int], group: LineGroup | None) -> int:
    """Put the business's lines ``line_ids`` into ``group`` (None: out of any group)."""
    require_admin(user, customer)
    if group is not None and group.customer_id != customer.pk:
        raise FleetRefused(_("There is no such group."))
    ids = list(Line.objects.filter(owner=customer, pk__in=line_ids).values_list("pk", flat=True))
    with transaction.atomic():
        GroupedLine.objects.filter(line_id__in=ids).delete()
        if group is not None:
            bulk_insert(unsaved(GroupedLine, line_id=pk, group=group) for pk in ids)
        audit_record(
            actor=user,
            action="fleet.lines_group",
            obj=group or customer,
            data={"lines": len(ids), "group": group.name if group else None},
        )
    return len(ids)
