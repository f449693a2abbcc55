"""Who may do what in a business's fleet: its members, and which of them administer it."""

from __future__ import annotations

from .errors import NotFleetAdmin
from .models import FleetMember


def fleet_member(user) -> FleetMember | None:
    """The user's membership of a business fleet, or None (not a business's login)."""
    if not getattr(user, "is_authenticated", False) or user.customer_id is None:
        return None
    member = FleetMember.objects.filter(user=user).select_related("user__customer").first()
    if member is None or member.user.customer.kind != "business":
        return None
    return member


def require_admin(user, customer) -> None:
    """Refuse (NotFleetAdmin) unless ``user`` administers the business ``customer``."""
    member = fleet_member(user)
    if member is None or member.role != FleetMember.Role.ADMIN or user.customer_id != customer.pk:
        raise NotFleetAdmin()
