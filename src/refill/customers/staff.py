"""What staff may open: the one permission check the staff pages share (the back office, support's
staff pages, the help editor). It sits with the users it checks, below every face that uses it."""

from __future__ import annotations

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied


def require_perm(permission: str):
    """Staff only, and only staff granted ``permission`` (superusers have all): editing the catalog
    in the admin must not also allow minting PINs, crediting wallets or refunding."""

    def decorator(view):
        @staff_member_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
