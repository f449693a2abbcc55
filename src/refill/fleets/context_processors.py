"""What every page needs to know about a business's people."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def viewer(request) -> dict:
    """``read_only_viewer``: the signed-in person is a viewer of a business's lines, so pages show
    what they may see and hide what they may not do (the writes are refused anyway,
    ``fleets.middleware``). Asked of the database only when a page uses it."""

    def is_viewer() -> bool:
        from .models import FleetMember

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.customer_id is None:
            return False
        return FleetMember.objects.filter(user_id=user.pk, role=FleetMember.Role.VIEWER).exists()

    return {"read_only_viewer": SimpleLazyObject(is_viewer)}
