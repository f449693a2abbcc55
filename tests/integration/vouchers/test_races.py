"""Single use and never-negative under racing processes (SQLite and PostgreSQL). tests/race.py checks
that the racers were all in flight at once."""

from decimal import Decimal

import pytest

from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment, SandboxCharge
from refill.vouchers.models import Voucher
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.race import assert_provider_books_match, race

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def test_a_pin_redeems_once_when_five_people_race(tmp_path):
    market = make_market()
    plan = make_plan(market)
    customers = [make_customer()[0] for _ in range(5)]
    for index, customer in enumerate(customers):
        make_line(customer, market, plan, msisdn=f"+1202400{index:04d}")
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    results = race(
        tmp_path,
        "tests.integration.vouchers.race_targets:redeem",
        [{"pin": pins[0][1], "customer_id": c.pk, "ip": f"10.0.0.{i}"} for i, c in enumerate(customers)],
    )
    assert sorted(r.get("value") or r.get("code") for r in results) == ["redeemed"] + ["voucher_used"] * 4
    assert sum(wallet_balance(c, "USD") for c in customers) == Decimal("10.00")
    assert Voucher.objects.get().state == "redeemed"


def test_racing_wallet_spends_never_go_negative(tmp_path):
    market = make_market()
    plan = make_plan(market, "daily", price="10.00", validity_count=1, max_prepaid_periods=50)
    customer, _ = make_customer()
    lines = [make_line(customer, market, plan, msisdn=f"+1202300{i:04d}") for i in range(5)]
    _, pins = voucher_batch_generate(count=3, face_value="10.00", currency="USD")
    for _, pin in pins:
        voucher_redeem(pin=pin, customer=customer)
    assert wallet_balance(customer, "USD") == Decimal("30.00")
    results = race(
        tmp_path,
        "tests.integration.vouchers.race_targets:pay_from_wallet",
        [{"line_id": line.pk, "plan_id": plan.pk, "key": f"spend-{line.pk}"} for line in lines],
    )
    outcomes = sorted(r.get("value") or r.get("code") for r in results)
    assert outcomes == ["succeeded"] * 3 + ["wallet_too_low"] * 2, outcomes
    assert wallet_balance(customer, "USD") == 0
    assert Order.objects.filter(status="paid").count() == 3
    # The wallet paid, and only the wallet: three spends of $10, nothing charged at the provider.
    spent = Payment.objects.filter(status="succeeded", order__line__isnull=False)
    assert sorted(spent.values_list("method", "amount")) == [("wallet", Decimal("10.00"))] * 3
    assert not SandboxCharge.objects.exists()
    assert_provider_books_match()
