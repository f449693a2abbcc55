"""How many eSIM profiles a new line can still get, per profile type, and the operator's
low-stock thresholds: the new-number page says so before the customer chooses, and the back
office inventory warns before the stock runs out."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.domain.esim import SmdpState
from refill.errors import RefillError

from .models import EsimOrder, Profile, StockAlert

OPEN = [EsimOrder.Status.ORDERING, EsimOrder.Status.RELEASED, EsimOrder.Status.DOWNLOADED]
MAX_THRESHOLD = 1_000_000


class BadThreshold(RefillError):
    code = "bad_threshold"
    message = _("The threshold must be a whole number from 0 to 1,000,000.")


@dataclass(frozen=True)
class StockLevel:
    profile_type: str
    ready: int  # released in advance: a new line's QR code is there at once
    in_stock: int  # available at the SM-DP+, ordered when a new line takes it
    low_at: int
    custom: bool  # the threshold was set for this type (not the default)

    @property
    def left(self) -> int:
        return self.ready + self.in_stock

    @property
    def low(self) -> bool:
        return self.left <= self.low_at

    @property
    def empty(self) -> bool:
        return self.left == 0


def profiles_left(profile_type: str) -> int:
    """Profiles a new line of ``profile_type`` can still get: kept ready for nobody, or in stock
    with no order under way (what ``esim_line_open`` and ``esim_for_new_line`` take)."""
    ready = EsimOrder.objects.filter(
        reason=EsimOrder.Reason.POOL,
        line__isnull=True,
        status=EsimOrder.Status.RELEASED,
        profile__line__isnull=True,
        profile__profile_type=profile_type,
    ).count()
    return ready + _in_stock().filter(profile_type=profile_type).count()


def _in_stock():
    return Profile.objects.filter(smdp_state=SmdpState.AVAILABLE, line__isnull=True).exclude(orders__status__in=OPEN)


def new_lines_can_get_esim() -> bool:
    """Whether a new line bought now gets its eSIM (the portal's profile type)."""
    return profiles_left(settings.REFILL_ESIM_PROFILE_TYPE) > 0


def stock_levels() -> list[StockLevel]:
    """Each known profile type (plus the new lines' own type, even with none left), with what is
    left and its threshold; the new lines' type first."""
    ready = dict(
        EsimOrder.objects.filter(
            reason=EsimOrder.Reason.POOL, line__isnull=True, status=EsimOrder.Status.RELEASED,
            profile__line__isnull=True,
        ).values("profile__profile_type").annotate(n=Count("pk")).values_list("profile__profile_type", "n")
    )  # fmt: skip
    in_stock = dict(
        _in_stock().values("profile_type").annotate(n=Count("pk", distinct=True)).values_list("profile_type", "n")
    )
    alerts = dict(StockAlert.objects.values_list("profile_type", "low_at"))
    types = set(Profile.objects.values_list("profile_type", flat=True).distinct()) | set(alerts)
    types.add(settings.REFILL_ESIM_PROFILE_TYPE)
    default = settings.REFILL_ESIM_LOW_STOCK
    ordered = sorted(types, key=lambda t: (t != settings.REFILL_ESIM_PROFILE_TYPE, t))
    return [StockLevel(t, ready.get(t, 0), in_stock.get(t, 0), alerts.get(t, default), t in alerts) for t in ordered]


def stock_alert_set(*, profile_type: str, low_at, actor=None) -> StockAlert:
    """Set the low-stock threshold of one profile type (0 warns only when none is left)."""
    try:
        value = int(str(low_at).strip())
    except (TypeError, ValueError):
        raise BadThreshold() from None
    profile_type = (profile_type or "").strip()
    if not 0 <= value <= MAX_THRESHOLD or not profile_type or len(profile_type) > 64:
        raise BadThreshold()
    with transaction.atomic():
        alert, _created = StockAlert.objects.update_or_create(
            profile_type=profile_type,
            defaults={
                "low_at": value,
                "updated_at": timezone.now(),
                "updated_by": actor if getattr(actor, "is_staff", False) else None,
            },
        )
        audit_record(actor=actor, action="esim.stock_alert", obj=alert, data={"type": profile_type, "low_at": value})
    return alert
