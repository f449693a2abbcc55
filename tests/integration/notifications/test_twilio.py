"""The Twilio SMS backend against a loopback stand-in for Twilio's Messages API: the documented
form fields and Basic auth; refusals are kept as failed, outages retried."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.test import override_settings

from refill.integrations.sms.base import SmsRejected, SmsUnavailable
from refill.integrations.sms.twilio import TwilioSmsBackend
from refill.notifications.models import Notification
from refill.notifications.services import notices_deliver
from tests.factories import make_customer

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "secret-token"


class FakeTwilio(BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_with = 0

    def do_POST(self):
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        fields = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        if self.headers.get("Authorization") != expected or self.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            return self._answer(401, {"code": 20003, "message": "Authenticate"})
        if FakeTwilio.fail_with:
            return self._answer(FakeTwilio.fail_with, {"code": 30001, "message": "Queue overflow"})
        if not fields.get("To", "").startswith("+1"):
            return self._answer(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
        FakeTwilio.received.append(fields)
        return self._answer(201, {"sid": f"SM{len(FakeTwilio.received):032d}", "status": "queued"})

    def _answer(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeTwilio.received, FakeTwilio.fail_with = [], 0
    with override_settings(
        REFILL_SMS_BACKEND="refill.integrations.sms.twilio.TwilioSmsBackend",
        REFILL_TWILIO_ACCOUNT_SID=SID,
        REFILL_TWILIO_AUTH_TOKEN=TOKEN,
        REFILL_TWILIO_FROM="+12025550100",
        REFILL_TWILIO_API_BASE=f"http://127.0.0.1:{server.server_port}",
    ):
        yield FakeTwilio
    server.shutdown()


def test_sends_with_the_documented_fields(twilio):
    sid = TwilioSmsBackend().send(to="+12025550143", body="Refill: 你好")
    assert sid.startswith("SM")
    assert twilio.received == [{"To": "+12025550143", "From": "+12025550100", "Body": "Refill: 你好"}]


def test_refusals_and_outages(twilio):
    with pytest.raises(SmsRejected, match="21211"):
        TwilioSmsBackend().send(to="+44", body="x")
    twilio.fail_with = 503
    with pytest.raises(SmsUnavailable):
        TwilioSmsBackend().send(to="+12025550143", body="x")


@pytest.mark.django_db
def test_a_refused_notice_is_kept_as_failed_and_an_outage_is_retried(twilio):
    customer, _ = make_customer("sms@example.com")
    bad = Notification.objects.create(
        rule="r",
        subject_key="a",
        channel="sms",
        customer=customer,
        language="en",
        recipient="+4",
        body="x",
        send_after="2020-01-01T00:00Z",
    )
    good = Notification.objects.create(
        rule="r",
        subject_key="b",
        channel="sms",
        customer=customer,
        language="en",
        recipient="+12025550143",
        body="y",
        send_after="2020-01-01T00:00Z",
    )
    twilio.fail_with = 500
    assert notices_deliver() == 0
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    twilio.fail_with = 0
    assert notices_deliver() == 1
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, good.status) == ("failed", "sent") and "21211" in bad.error
    assert notices_deliver() == 0
