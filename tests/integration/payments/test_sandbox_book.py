"""The sandbox's books under concurrent charges (auto-renew's threads): charges arriving together
are written together, each key charges once, and a repeated key answers what it did the first
time, whichever thread wrote it."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from refill.integrations.payments.base import CardDetails, ChargeRequest, ChargeStatus
from refill.integrations.payments.sandbox import SandboxGateway
from refill.payments.models import SandboxCharge

pytestmark = pytest.mark.django_db(transaction=True)


def _request(token: str, key: str) -> ChargeRequest:
    return ChargeRequest(
        amount=Decimal("5.00"), currency="USD", token=token, idempotency_key=key, description="t", off_session=True
    )


def test_charges_arriving_together_are_stored_once_per_key():
    gateway = SandboxGateway()
    paying = gateway.tokenize(CardDetails("4242424242424242", 12, 2099, "123")).token
    declined = gateway.tokenize(CardDetails("4000000000000002", 12, 2099, "123")).token
    # 12 keys, each sent twice, by 8 threads started together; every fourth key is a declined card.
    calls = [(declined if n % 4 == 0 else paying, f"key-{n}") for n in range(12)] * 2
    answers: dict[str, list] = {}
    lock = threading.Lock()
    start = threading.Barrier(8)

    def charge(part):
        try:
            start.wait()
            for token, key in part:
                result = gateway.charge(_request(token, key))
                with lock:
                    answers.setdefault(key, []).append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=charge, args=(calls[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SandboxCharge.objects.count() == 12
    for n in range(12):
        first, second = answers[f"key-{n}"]
        assert first == second
        assert first.status == (ChargeStatus.FAILED if n % 4 == 0 else ChargeStatus.SUCCEEDED)
    assert set(SandboxCharge.objects.values_list("status", flat=True)) == {"succeeded", "failed"}


def test_a_charge_inside_a_transaction_is_written_on_its_own():
    gateway = SandboxGateway()
    token = gateway.tokenize(CardDetails("4242424242424242", 12, 2099, "123")).token
    with pytest.raises(RuntimeError), transaction.atomic():
        assert gateway.charge(_request(token, "inside")).status == ChargeStatus.SUCCEEDED
        raise RuntimeError("rolled back")
    # Rolled back with the caller's transaction, and nobody else's charge with it.
    assert not SandboxCharge.objects.filter(idempotency_key="inside").exists()
    assert gateway.charge(_request(token, "after")).status == ChargeStatus.SUCCEEDED
    assert SandboxCharge.objects.filter(idempotency_key="after").exists()
