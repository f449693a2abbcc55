"""A fleet viewer sees the business's lines everywhere (the portal too) and changes nothing: any
request that would change something is refused, except their own login's (log out, password,
two-factor, language). Their language switch is their own too: it changes their pages (a cookie),
never the business's preferred language, in which every notification to the business is written."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseForbidden
from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError, problem_response

from .models import FleetMember

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
OWN_LOGIN = ("/accounts/", "/_allauth/", "/language/")


class ViewerReadOnly(RefillError):
    code = "fleet_viewer_read_only"
    message = _("Viewers of a business's lines can look but not change anything.")


def is_viewer(user) -> bool:
    """Whether ``user`` is a viewer of a business's lines (who may look, never change)."""
    if user is None or not user.is_authenticated or user.customer_id is None:
        return False

    return FleetMember.objects.filter(user_id=user.pk, role=FleetMember.Role.VIEWER).exists()


def viewer_language(request, customer) -> str | None:
    """The language a viewer chose for their own pages (the switch's cookie), when it is not the
    business's: None for anyone else, and for a viewer who has not chosen one."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen == customer.preferred_language or chosen not in dict(settings.LANGUAGES):
        return None
    return chosen if is_viewer(request.user) else None


def read_only(request, user) -> bool:
    """Whether ``user`` may only look: a fleet viewer asking to change something."""
    return request.method not in SAFE_METHODS and is_viewer(user)


class FleetViewerReadOnlyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(OWN_LOGIN) and read_only(request, getattr(request, "user", None)):
            if request.path.startswith("/api/"):  # the API refuses in its own shape (RFC 9457)
                return problem_response(403, ViewerReadOnly.code, str(ViewerReadOnly()))
            return HttpResponseForbidden(str(ViewerReadOnly()))
        return self.get_response(request)
