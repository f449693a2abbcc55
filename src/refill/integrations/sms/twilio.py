"""Twilio's Programmable Messaging over its REST API (no SDK needed): one form POST per message,
HTTP Basic auth with the account SID and auth token.

Settings: REFILL_TWILIO_ACCOUNT_SID, REFILL_TWILIO_AUTH_TOKEN, and REFILL_TWILIO_FROM (a sender
number in E.164, or a Messaging Service SID starting with ``MG``). REFILL_TWILIO_API_BASE only for
tests. A refusal Twilio will repeat (bad number, unsubscribed recipient: any 4xx) raises
``SmsRejected`` and is not retried; a timeout or a 5xx raises ``SmsUnavailable`` and is."""

from __future__ import annotations

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import SmsRejected, SmsUnavailable


class TwilioSmsBackend:
    def __init__(self) -> None:
        self.account = settings.REFILL_TWILIO_ACCOUNT_SID
        self.token = settings.REFILL_TWILIO_AUTH_TOKEN
        self.sender = settings.REFILL_TWILIO_FROM
        if not (self.account and self.token and self.sender):
            raise ImproperlyConfigured("REFILL_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM must be set")
        self.base = settings.REFILL_TWILIO_API_BASE.rstrip("/")

    def send(self, *, to: str, body: str) -> str:
        data = {"To": to, "Body": body}
        data["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        try:
            response = requests.post(
                f"{self.base}/2010-04-01/Accounts/{self.account}/Messages.json",
                data=data,
                auth=(self.account, self.token),
                timeout=15,
            )
        except requests.RequestException as exc:
            raise SmsUnavailable(f"Twilio did not answer: {exc}") from exc
        if response.status_code >= 500:
            raise SmsUnavailable(f"Twilio answered {response.status_code}")
        if response.status_code >= 400:
            try:
                error = response.json()
            except ValueError:
                error = {}
            raise SmsRejected(
                f"Twilio refused the message: {error.get('code', response.status_code)} {error.get('message', '')}"
            )
        return response.json().get("sid", "")
