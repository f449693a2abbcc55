"""Who is calling the API, worked out once per request: the idempotency middleware and the
view's authentication ask the same questions, and each answer costs a query."""

from __future__ import annotations

from django.http import HttpRequest


def _memo(request: HttpRequest, kind: str, token: str, find):
    answers = request.__dict__.setdefault("_refill_callers", {})
    if (kind, token) not in answers:
        answers[kind, token] = find(token)
    return answers[kind, token]


def app_user_of(request: HttpRequest, token: str):
    """The user an app's ``X-Session-Token`` names, or None."""
    from allauth.headless.internal.sessionkit import authenticate_by_x_session_token

    def find(text):
        found = authenticate_by_x_session_token(text)
        return found[0] if found else None

    return _memo(request, "app", token, find) if token else None


def api_key_of(request: HttpRequest, token: str):
    """The active API key ``token`` is, or None."""
    from refill.apikeys.services import apikey_authenticate

    return _memo(request, "key", token, apikey_authenticate) if token else None
