"""SMS backend port. Pick one with REFILL_SMS_BACKEND (dotted path)."""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsRejected(Exception):
    """The provider refused this message for good (bad number, recipient opted out): do not retry."""


class SmsUnavailable(Exception):
    """The provider could not be reached or failed: try again later."""


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


def get_sms_backend() -> SmsBackend:
    return import_string(settings.REFILL_SMS_BACKEND)()


def send_sms(*, to: str, body: str) -> None:
    get_sms_backend().send(to=to, body=body)
