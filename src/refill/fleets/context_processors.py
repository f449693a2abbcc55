"""What every page needs to know about a business's people."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from .middleware import is_viewer


def viewer(request) -> dict:
    """``read_only_viewer``: the signed-in person is a viewer of a business's lines, so pages show
    what they may see and hide what they may not do (the writes are refused anyway,
    ``fleets.middleware``). Asked of the database only when a page uses it."""
    return {"read_only_viewer": SimpleLazyObject(lambda: is_viewer(getattr(request, "user", None)))}
