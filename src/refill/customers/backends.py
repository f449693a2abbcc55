from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied

from .adapter import DEMO_EMAILS


class DemoGuardBackend(BaseBackend):
    """Refuses the fixed demo logins whenever REFILL_DEMO is off (production settings), even if the
    rows exist. Raising PermissionDenied stops Django trying later backends."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        login = (email or username or "").strip().lower()
        if not settings.REFILL_DEMO and login in DEMO_EMAILS:
            raise PermissionDenied
        return None


def axes_username(request, credentials) -> str:
    """The login the lockout counts against: allauth passes email or phone, the form "login"."""
    credentials = credentials or {}
    for key in ("email", "phone", "username", "login"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    if request is not None and request.method == "POST":
        return (request.POST.get("login") or "").strip().lower()
    return ""
