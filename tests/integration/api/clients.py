"""API callers as real clients are: Django's CSRF checks are enforced (the test client skips them
unless told otherwise, which once hid that every partner POST was refused as a CSRF failure).

``Client`` is the one the API tests use for every caller. A partner sends only its bearer key and
an app only its ``X-Session-Token``: neither has a cookie, and neither is given a CSRF token. A
signed-in browser page sends the token Django gave it (a cookie, and the same value in the
``X-CSRFToken`` header, as the page's script does), unless it is made with ``csrf_token=False``: a
session that forgets it, or a cross-site form riding on the cookie, which must be refused."""

from __future__ import annotations

import django.test
from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import get_random_string


class Client(django.test.Client):
    def __init__(self, *args, csrf_token: bool = True, **defaults):
        super().__init__(*args, enforce_csrf_checks=True, **defaults)
        self.sends_csrf_token = csrf_token

    def request(self, **request):
        if self.sends_csrf_token and settings.SESSION_COOKIE_NAME in self.cookies:
            if settings.CSRF_COOKIE_NAME not in self.cookies:
                self.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
            # Read at each request: a sign-in rotates the token, and the page then has the new one.
            request.setdefault("HTTP_X_CSRFTOKEN", self.cookies[settings.CSRF_COOKIE_NAME].value)
        return super().request(**request)


def app_token(client: django.test.Client, email: str, password: str) -> str:
    """Sign in through allauth's headless app API, as the mobile app does: its session token."""
    answer = client.post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["meta"]["session_token"]
