"""Production: secrets required, HTTPS, demo logins refused."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = False
REFILL_DEMO = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY or SECRET_KEY.startswith("refill-insecure"):
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY to a long random value in production.")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("REFILL_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000

REFILL_PAYMENT_GATEWAY = os.environ.get("REFILL_PAYMENT_GATEWAY", "")
if REFILL_PAYMENT_GATEWAY in {"", "sandbox"}:
    # The sandbox approves any valid-looking test number: never take money with it.
    raise ImproperlyConfigured("Set REFILL_PAYMENT_GATEWAY to a real payment adapter in production.")
