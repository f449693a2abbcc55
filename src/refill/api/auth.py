"""Who may call an operation of API v1 (docs/api.md, "Authentication"), and what a router asks of
the caller once it is in: the customer it acts for, a key's scope, the order channel.

Every router names its callers with one of these lists: ``CUSTOMERS`` (the API's default: the app's
token and the browser session) or ``CUSTOMERS_AND_KEYS`` (those, and a partner's or the network's
API key). ``auth=None`` is an operation anyone may call."""

from __future__ import annotations

from allauth.headless.contrib.ninja.security import XSessionTokenAuth
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

from refill.errors import RefillError
from refill.fleets.middleware import ViewerReadOnly, read_only

from .callers import api_key_of, app_user_of, session_auth


class AppTokenAuth(XSessionTokenAuth):
    """The mobile app: ``X-Session-Token`` from allauth's headless login (docs/api.md). The
    customer it names acts as if signed in (no CSRF: the token is not a cookie)."""

    openapi_in = "header"
    openapi_name = "X-Session-Token"

    def __call__(self, request: HttpRequest):
        user = app_user_of(request, self.get_session_token(request) or "")
        if user is not None and (user.is_staff or user.customer_id is None):
            # The app is the customers': staff and shop agents work in the back office and at the
            # counter, behind their second factor, never through an app session.
            return None
        if user is not None:
            if read_only(request, user):
                raise ViewerReadOnly()
            request.user = user
            request.app_session = True  # the order channel "app"
        return user


app_token_auth = AppTokenAuth()


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer rfk_…``: a partner's or the network's key, checked against its hash."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str):
        key = api_key_of(request, token)
        if key is not None:
            request.api_key = key
        return key


api_key_auth = ApiKeyAuth()

# In this order: the OpenAPI document lists the ways of calling as given here.
CUSTOMERS = [app_token_auth, session_auth]
CUSTOMERS_AND_KEYS = [app_token_auth, session_auth, api_key_auth]


class ScopeMissing(RefillError):
    code = "scope_missing"
    message = _("This API key may not do this. Ask the operator for a key with the %(scope)s permission.")


class NoCustomer(RefillError):
    code = "no_customer"
    message = "This account has no wallet."


def require_scope(request: HttpRequest, scope: str) -> None:
    """A signed-in customer acts for themselves; an API key needs ``scope``."""
    key = getattr(request, "api_key", None)
    if key is not None and not key.has_scope(scope):
        raise ScopeMissing(scope=scope)


def customer_of(request: HttpRequest):
    """The customer the signed-in user (session or app token) is."""
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise NoCustomer()
    return customer


def channel_of(request: HttpRequest) -> str:
    """Where an order is made, for the promotions that name their channels."""
    if getattr(request, "api_key", None) is not None:
        return "api"
    return "app" if getattr(request, "app_session", False) else "web"
