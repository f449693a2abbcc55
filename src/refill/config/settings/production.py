"""Production: secrets required, HTTPS, demo logins refused.

Every setting that would make the site insecure is checked at import, and all problems found are
reported together in one ImproperlyConfigured, so the process refuses to start until each is fixed
(docs/security.md, V14).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

# Django's own deployment check (security.W009) asks for at least this much.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5

# DJANGO_DEBUG is read by base; production never runs with it, and says so rather than ignore it.
DEBUG_REQUESTED = env_bool("DJANGO_DEBUG", False)
DEBUG = False
REFILL_DEMO = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("REFILL_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
# On by default; an operator whose other subdomains still serve plain HTTP turns it off
# (REFILL_HSTS_INCLUDE_SUBDOMAINS=0). Preload stays an explicit choice of the domain's owner.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("REFILL_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("REFILL_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REFILL_PAYMENT_GATEWAY = os.environ.get("REFILL_PAYMENT_GATEWAY", "")


def insecure_settings(values: dict) -> list[str]:
    """What in these settings would make a production site insecure, one sentence each."""
    problems = []
    if values.get("DEBUG") or values.get("DEBUG_REQUESTED"):
        problems.append("DJANGO_DEBUG is on: production never runs with debug pages.")
    secret = values.get("SECRET_KEY") or ""
    if (
        not secret
        or secret.startswith("refill-insecure")
        or secret.startswith("django-insecure")
        or len(secret) < SECRET_KEY_MIN_LENGTH
        or len(set(secret)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    ):
        problems.append(
            f"Set DJANGO_SECRET_KEY to a long random value in production (at least {SECRET_KEY_MIN_LENGTH} "
            "characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    if "*" in values.get("ALLOWED_HOSTS", []):
        problems.append("DJANGO_ALLOWED_HOSTS contains '*': name the host names this site answers to.")
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY"):
        if values.get(name) is not True:
            problems.append(f"{name} must be True in production.")
    for name in ("SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE"):
        if values.get(name) not in {"Lax", "Strict"}:
            problems.append(f"{name} must be 'Lax' or 'Strict' in production.")
    if not values.get("SECURE_HSTS_SECONDS"):
        problems.append("SECURE_HSTS_SECONDS must be set in production.")
    if values.get("X_FRAME_OPTIONS") != "DENY":
        problems.append("X_FRAME_OPTIONS must be 'DENY' in production.")
    if values.get("REFILL_PAYMENT_GATEWAY") in {"", "sandbox"}:
        # The sandbox approves any valid-looking test number: never take money with it.
        problems.append("Set REFILL_PAYMENT_GATEWAY to a real payment adapter in production.")
    return problems


_problems = insecure_settings(globals())
if _problems:
    raise ImproperlyConfigured("Refill will not start with insecure settings:\n- " + "\n- ".join(_problems))
