"""Receipt numbers stay gap-free while checkouts of different lines run at the same time (tests/race.py
checks that the racers were all in flight at once), and the provider charged each order once."""

import pytest

from refill.orders.models import Order, Receipt
from refill.payments.models import Payment, SandboxCharge
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.race import assert_provider_books_match, race

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def test_concurrent_checkouts_number_receipts_without_gaps(tmp_path):
    market = make_market()
    plan = make_plan(market, "daily", validity_count=1, max_prepaid_periods=50)
    lines = []
    for index in range(6):
        customer, _ = make_customer()
        lines.append(make_line(customer, market, plan, msisdn=f"+1202200{index:04d}"))
    results = race(
        tmp_path,
        "tests.integration.orders.race_targets:renew_line",
        [{"line_id": line.pk, "plan_id": plan.pk, "key": f"racer-{line.pk}", "times": 4} for line in lines],
    )
    assert all(result["ok"] and result["value"] == ["succeeded"] * 4 for result in results), results
    assert Order.objects.filter(status="paid").count() == 24
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 25))
    assert Receipt.objects.values("series").distinct().count() == 1
    # 24 charges at the provider, one per paid order, each the one Refill recorded as succeeded.
    assert SandboxCharge.objects.filter(status="succeeded").count() == 24
    assert Payment.objects.filter(status="succeeded", method="card").values("order").distinct().count() == 24
    assert_provider_books_match()
