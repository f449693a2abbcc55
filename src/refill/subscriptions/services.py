"""Changes to a line's allowances made by staff (the back office's customer 360)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.errors import RefillError

from .models import Bucket


class BucketAdjustRefused(RefillError):
    code = "bucket_adjust_refused"


@transaction.atomic
def bucket_adjust(*, bucket: Bucket, change: int, actor, reason: str) -> Bucket:
    """Grant ``change`` more (or, negative, less) of a bucket's allowance, as goodwill or to correct
    a mistake: never below what is already used, never on an unlimited bucket, always with a reason,
    audited with the amounts before and after."""
    locked = Bucket.objects.select_for_update().get(pk=bucket.pk)
    if not reason.strip():
        raise BucketAdjustRefused(_("Give a reason."))
    if locked.unlimited:
        raise BucketAdjustRefused(_("An unlimited allowance cannot be adjusted."))
    if change == 0 or locked.granted + change < locked.used:
        raise BucketAdjustRefused(_("The allowance cannot go below what is already used."))
    before = locked.granted
    locked.granted += change
    locked.save(update_fields=["granted"])
    audit_record(
        actor=actor,
        action="bucket.adjust",
        obj=locked,
        reason=reason.strip(),
        data={"before": {"granted": before}, "after": {"granted": locked.granted}, "line": locked.line_id},
    )
    return locked
