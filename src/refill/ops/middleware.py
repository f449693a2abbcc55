import ipaddress
import re
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

from .request_context import reset_client_ip, reset_request_id, set_client_ip, set_request_id

_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request) -> str | None:
    """REMOTE_ADDR, normalised, or None when it is not an address (a Unix socket). Only
    REMOTE_ADDR, as the portal's PIN redemption does: a proxy in front must hand the server the
    client's address; an X-Forwarded-For header is the client's to write and is not believed."""
    # Without an IPv6 zone ("fe80::1%eth0"): PostgreSQL's inet refuses one.
    address = request.META.get("REMOTE_ADDR", "").split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class RequestIdMiddleware:
    """Takes X-Request-ID from a trusted proxy when it is well formed, else makes one; remembers it
    and the client's address for the request's logs and audit rows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        ip_token = set_client_ip(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            reset_client_ip(ip_token)
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class NoStoreWhenSignedInMiddleware:
    """A page shown to someone signed in (their lines, orders, wallet, a customer's 360) or any
    account page is never kept by the browser's or a proxy's cache (ASVS 8.2.1): "no-store",
    unless the view chose its own caching. Static files and public pages keep theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if (signed_in or request.path.startswith("/accounts/")) and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


class SessionTimeoutMiddleware:
    """A signed-in browser session ends after ``REFILL_SESSION_IDLE_TIMEOUT`` seconds without a
    request, and in any case ``REFILL_SESSION_MAX_AGE`` seconds after it began, however busy
    (ASVS 3.3.2). The request that finds it over goes on logged out, so a page that needs a login
    sends them to the login page, which says why. The last-seen time is written at most once a
    minute. The app's token sessions and API keys are not browser sessions and are not touched."""

    TOUCH_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        idle, longest = settings.REFILL_SESSION_IDLE_TIMEOUT, settings.REFILL_SESSION_MAX_AGE
        if user is not None and user.is_authenticated and (idle or longest):
            self._check(request, idle, longest)
        return self.get_response(request)

    def _check(self, request, idle: int, longest: int) -> None:
        session, now = request.session, int(time.time())
        started, seen = session.get("_refill_started"), session.get("_refill_seen")
        if started is None:
            session["_refill_started"] = session["_refill_seen"] = now
            return
        if (idle and now - (seen or started) > idle) or (longest and now - started > longest):
            logout(request)
            messages.info(request, _("You were logged out after a while without activity. Please log in again."))
        elif seen is None or now - seen >= self.TOUCH_EVERY:
            session["_refill_seen"] = now
