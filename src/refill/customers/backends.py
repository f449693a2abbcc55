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
