"""The payment providers' webhooks into Refill (``/webhooks/payments/<gateway>/``, sandbox and
Stripe) are believed only with a valid signature: ``t=<unix time>,v1=<HMAC-SHA256 of "t.body">``
under the receiver's secret, at most 300 seconds from now. A refused delivery answers 400 and stores
nothing; a right one is stored once. The signature is computed here from Stripe's documented scheme,
not with the adapter's own signer, so a change to the adapter's scheme cannot hide behind it.

docs/security.md (V13, "webhooks authenticated") cites this file."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
import time_machine

from refill.payments.models import ProviderEvent

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 20, 5, tzinfo=UTC)  # frozen: the tolerance is measured from here
T = int(NOW.timestamp())
RECEIVERS = {
    # gateway name: (signature header, settings that give its receiver a secret)
    "sandbox": ("Sandbox-Signature", {"REFILL_SANDBOX_WEBHOOK_SECRET": "whsec_sandbox_in"}),
    "stripe": (
        "Stripe-Signature",
        {"REFILL_STRIPE_SECRET_KEY": "sk_test_inbound", "REFILL_STRIPE_WEBHOOK_SECRET": "whsec_stripe_in"},
    ),
}


def signature(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_of(gateway: str, event_id: str) -> bytes:
    if gateway == "stripe":
        data = {"object": {"id": "pi_in", "object": "payment_intent", "metadata": {"refill_key": "k-in"}}}
        return json.dumps({"id": event_id, "type": "payment_intent.succeeded", "data": data}).encode()
    data = {"idempotency_key": "k-in", "reference": "ch_in", "decline_code": ""}
    return json.dumps({"id": event_id, "type": "charge.succeeded", "data": data}).encode()


@pytest.fixture(params=sorted(RECEIVERS))
def receiver(request, settings, client):
    header, secrets = RECEIVERS[request.param]
    for name, value in secrets.items():
        setattr(settings, name, value)
    secret = next(value for name, value in secrets.items() if name.endswith("WEBHOOK_SECRET"))
    url = f"/webhooks/payments/{request.param}/"

    def deliver(body: bytes, header_value: str | None):
        extra = {} if header_value is None else {"HTTP_" + header.upper().replace("-", "_"): header_value}
        return client.post(url, body, content_type="application/json", **extra)

    with time_machine.travel(NOW, tick=False):
        yield request.param, secret, deliver


def test_a_missing_signature_is_refused_and_nothing_is_stored(receiver):
    gateway, secret, deliver = receiver
    body = body_of(gateway, "evt_missing")
    assert deliver(body, None).status_code == 400
    assert deliver(body, "").status_code == 400
    assert deliver(body, f"t={T}").status_code == 400  # a time but no signature
    assert deliver(body, signature(body, secret, T).split(",")[1]).status_code == 400  # a signature, no time
    assert not ProviderEvent.objects.exists()


def test_a_wrong_signature_is_refused_and_nothing_is_stored(receiver):
    gateway, secret, deliver = receiver
    body = body_of(gateway, "evt_wrong")
    assert deliver(body, signature(body, "whsec_someone_else", T)).status_code == 400  # another secret
    assert deliver(body, signature(body_of(gateway, "evt_other"), secret, T)).status_code == 400  # another body
    assert deliver(body, signature(body, secret, T - 1).replace(f"t={T - 1}", f"t={T}")).status_code == 400
    assert deliver(body, f"t={T},v1=" + "0" * 64).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_stale_or_future_signature_is_refused_and_nothing_is_stored(receiver):
    gateway, secret, deliver = receiver
    body = body_of(gateway, "evt_stale")
    assert deliver(body, signature(body, secret, T - 301)).status_code == 400  # captured and replayed later
    assert deliver(body, signature(body, secret, T - 3600)).status_code == 400
    assert deliver(body, signature(body, secret, T + 301)).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_right_signature_is_accepted_and_stored_once(receiver):
    gateway, secret, deliver = receiver
    body = body_of(gateway, "evt_right")
    answer = deliver(body, signature(body, secret, T))
    assert answer.status_code == 200 and answer.json() == {"received": True, "duplicate": False}
    late = deliver(body, signature(body, secret, T - 300))  # the provider's retry, at the edge of the window
    assert late.status_code == 200 and late.json()["duplicate"] is True
    rolled = f"t={T},v1={'0' * 64}," + signature(body, secret, T).split(",")[1]  # a secret being rolled
    assert deliver(body, rolled).status_code == 200
    stored = ProviderEvent.objects.get()
    assert (stored.gateway, stored.event_id) == (gateway, "evt_right")
