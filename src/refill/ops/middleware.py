import ipaddress
import re
import uuid

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
