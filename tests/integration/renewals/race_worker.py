"""One racer for test_renewal_race.py: a separate OS process that renews a line through the real
services, on the same database as the test that started it.

Usage: python race_worker.py '<json payload>'. The payload names the database (the test database
pytest-django created, not the configured one), the rows to use, the idempotency key and a barrier
folder. The worker sets Django up, loads its rows and opens its connection, writes ``ready-<index>``
into the barrier folder, waits for the ``go`` file (which holds a start instant a little in the
future) and spins until that instant, so that every racer calls the services at the same moment.

It prints one JSON line with its outcome and exits 0 when the services answered with a result or
with an expected domain error; any other exception prints the traceback and exits 1.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BARRIER_TIMEOUT = 60.0


def _setup_django(db_name: str) -> None:
    for path in (REPO, REPO / "src"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ["DJANGO_SETTINGS_MODULE"] = "refill.config.settings.test"
    from django.conf import settings

    # Point at the test database before any connection exists. Nothing here runs the test
    # runner, so no test database is ever created or destroyed by a worker.
    settings.DATABASES["default"]["NAME"] = db_name
    import django

    django.setup()


def _wait_for_go(barrier: Path, index: int) -> float:
    (barrier / f"ready-{index}").write_text(str(os.getpid()))
    go = barrier / "go"
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never opened the barrier")
        time.sleep(0.001)
    start_at = float(go.read_text())
    if start_at - time.time() > 0.01:
        time.sleep(start_at - time.time() - 0.01)
    while time.time() < start_at:  # spin the last few ms: sleeping adds scheduler jitter
        pass
    return start_at


def main() -> int:
    payload = json.loads(sys.argv[1])
    _setup_django(payload["db_name"])

    from django.db import connection
    from django.utils import timezone

    from refill.catalog.models import Plan
    from refill.customers.models import Customer
    from refill.integrations.payments.base import CardDetails
    from refill.integrations.payments.sandbox import SandboxGateway
    from refill.lines.models import Line
    from refill.orders.checkout import order_create_renewal
    from refill.orders.errors import IdempotencyConflict, PaymentInProgress, TooManyPeriods
    from refill.orders.paying import order_pay_card

    if connection.vendor != payload["vendor"]:
        raise RuntimeError(f"worker is on {connection.vendor}, the test on {payload['vendor']}")
    customer = Customer.objects.get(pk=payload["customer"])
    line = Line.objects.get(pk=payload["line"])
    plan = Plan.objects.get(pk=payload["plan"])
    gateway = SandboxGateway(latency_ms=payload.get("latency_ms", 0))
    token = gateway.tokenize(
        CardDetails(number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 2, cvc="123")
    )
    connection.ensure_connection()  # connect before the start line, not during the race

    result: dict = {"index": payload["index"], "key": payload["key"], "pid": os.getpid()}
    result["start_at"] = _wait_for_go(Path(payload["barrier"]), payload["index"])
    result["started"] = time.time()
    try:
        order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key=payload["key"])
    except (IdempotencyConflict, TooManyPeriods, PaymentInProgress) as error:
        result.update(stage="order", outcome=error.code, order=None)
    else:
        result.update(order=order.pk)
        try:
            payment = order_pay_card(order=order, token=token, gateway=gateway)
        except (IdempotencyConflict, TooManyPeriods, PaymentInProgress) as error:
            result.update(stage="payment", outcome=error.code, payment=None)
        else:
            result.update(
                stage="payment",
                outcome="paid" if payment is not None and payment.status == "succeeded" else "not_paid",
                payment=payment.pk if payment is not None else None,
                payment_status=payment.status if payment is not None else None,
            )
    result["finished"] = time.time()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - anything unexpected fails the test with its traceback
        traceback.print_exc()
        sys.exit(1)
