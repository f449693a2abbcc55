from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from refill.ops.models import Heartbeat
from refill.ops.scheduler import run_scheduler

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_needs_a_live_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["worker"] == "down"
    # the scheduler enqueues a heartbeat; the real worker runs it
    run_scheduler(once=True)
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "web": "ok", "database": "ok", "worker": "ok"}
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 503


def test_readyz_and_security_headers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    page = client.get("/")
    assert "default-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Request-ID"]
