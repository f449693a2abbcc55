"""Who is calling the API, worked out once per request: the idempotency middleware and the
view's authentication ask the same questions, and each answer costs a query. Also the browser
session's authentication, which asks for a CSRF token only of the callers it signs in."""

from __future__ import annotations

from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from refill.apikeys.services import apikey_authenticate


def _memo(request: HttpRequest, kind: str, token: str, find):
    answers = request.__dict__.setdefault("_refill_callers", {})
    if (kind, token) not in answers:
        answers[kind, token] = find(token)
    return answers[kind, token]


def app_user_of(request: HttpRequest, token: str):
    """The user an app's ``X-Session-Token`` names, or None."""

    def find(text):
        found = authenticate_by_x_session_token(text)
        return found[0] if found else None

    return _memo(request, "app", token, find) if token else None


def api_key_of(request: HttpRequest, token: str):
    """The active API key ``token`` is, or None."""
    return _memo(request, "key", token, apikey_authenticate) if token else None


class SessionAuth(APIKeyCookie):
    """A signed-in browser session (Django's session cookie), which must send its CSRF token with
    every change (X-CSRFToken). Ninja's own ``django_auth`` checks CSRF before it knows whether
    there is a session at all, and its refusal ends the request: a partner's bearer key or an app
    token listed after it was never tried, so every partner POST was refused as csrf_failed. Here
    CSRF is checked only for a request the session actually signs in; any other request is not
    this caller's, and the next way of calling is tried."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, once the session is known to be the caller

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check Failed")
        return user


session_auth = SessionAuth()
