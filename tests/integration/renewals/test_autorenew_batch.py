"""The auto-renew engine's batches: many attempts with different fates renewed together, each
ending exactly as it would alone; a batch that breaks is run again attempt by attempt; the bulk
writes it relies on are tested in tests/integration/ops/test_bulk.py. (The money invariants are checked
after every test by the autouse fixture in conftest.)"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_adjust, wallet_balance
from refill.lines.models import Line
from refill.notifications.models import Notification
from refill.orders.models import Order, Receipt
from refill.payments.models import Payment
from refill.payments.services import method_add, method_set_role
from refill.renewals import autorenew
from refill.renewals.autorenew import autorenew_sweep, autorenew_update
from refill.renewals.models import RenewalAttempt
from refill.subscriptions.models import Bucket, Period
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # noon in New York, outside SMS quiet hours


def card(line, number, role=None):
    method = method_add(
        customer=line.owner,
        gateway=SandboxGateway(),
        card=CardDetails(number=number, exp_month=12, exp_year=2039, cvc="123"),
    )
    if role:
        method_set_role(method=method, role=role)
    return method


@pytest.fixture
def market_plan():
    market = make_market()
    return market, make_plan(market, "us-30day", price="25.00")


def opted_in(market, plan, name, **settings):
    customer, _ = make_customer(f"{name}@example.com")
    line = make_line(customer, market, plan)
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    autorenew_update(line=line, actor=None, enabled=True, **settings)
    line.refresh_from_db()
    return line


def test_one_batch_gives_each_attempt_the_end_it_would_have_alone(market_plan, _sms_outbox):
    market, plan = market_plan
    paid = opted_in(market, plan, "paid")
    card(paid, "4242424242424242")
    backup = opted_in(market, plan, "backup")
    card(backup, "4000000000009995")
    card(backup, "5555555555554444", role="backup")
    declined = opted_in(market, plan, "declined")
    card(declined, "4000000000000002")
    wallet = opted_in(market, plan, "wallet")
    card(wallet, "4242424242424242")
    wallet_adjust(customer=wallet.owner, currency="USD", amount=Decimal("30.00"), reason="gift", key="w1")
    split = opted_in(market, plan, "split", use_wallet=True)
    card(split, "4242424242424242")
    wallet_adjust(customer=split.owner, currency="USD", amount=Decimal("10.00"), reason="gift", key="w2")
    capped = opted_in(market, plan, "capped", cap_per_renewal=Decimal("20.00"))
    card(capped, "4242424242424242")
    no_card = opted_in(market, plan, "nocard")
    switched_off = opted_in(market, plan, "off")
    card(switched_off, "4242424242424242")
    end = paid.period_end
    with time_machine.travel(end - timedelta(hours=23), tick=False):
        autorenew.autorenew_schedule()
    autorenew_update(line=switched_off, actor=None, enabled=False)  # after its attempt was owed

    batches = []
    real = autorenew.autorenew_run_batch

    def counted(attempts, *, now):
        batches.append(len(attempts))
        return real(attempts, now=now)

    autorenew.autorenew_run_batch = counted
    try:
        with time_machine.travel(end - timedelta(hours=23), tick=False):
            assert autorenew_sweep()["ran"] == 8
    finally:
        autorenew.autorenew_run_batch = real
    assert batches == [8]  # all in one batch

    def attempt(line):
        return RenewalAttempt.objects.get(line=line, number=1)

    def extended(line):
        return Line.objects.get(pk=line.pk).period_end == end + timedelta(days=30)

    assert (attempt(paid).status, extended(paid)) == ("succeeded", True)
    assert (attempt(backup).status, extended(backup)) == ("succeeded", True)
    backup_payments = Payment.objects.filter(order_id=attempt(backup).order_id).order_by("pk")
    assert [(p.card_last4, p.status) for p in backup_payments] == [("9995", "failed"), ("4444", "succeeded")]
    assert (attempt(declined).status, attempt(declined).reason, extended(declined)) == (
        "failed",
        "do_not_honour",
        False,
    )
    assert RenewalAttempt.objects.filter(line=declined, number=2, status="due").exists()  # its retry
    assert attempt(wallet).status == "succeeded" and extended(wallet)
    assert wallet_balance(wallet.owner, "USD") == Decimal("5.00")
    split_payments = Payment.objects.filter(order_id=attempt(split).order_id).order_by("method")
    assert [(p.method, p.amount, p.status) for p in split_payments] == [
        ("card", Decimal("15.0000"), "succeeded"),
        ("wallet", Decimal("10.0000"), "succeeded"),
    ]
    assert wallet_balance(split.owner, "USD") == Decimal("0.00") and extended(split)
    assert (attempt(capped).status, attempt(capped).reason) == ("over_cap", "renewal_cap")
    assert not Order.objects.filter(line=capped, idempotency_key__startswith="auto:").exists()
    assert (attempt(no_card).status, attempt(no_card).reason) == ("failed", "no_payment_method")
    assert (attempt(switched_off).status, attempt(switched_off).reason) == ("skipped", "disabled")

    renewed = [paid, backup, wallet, split]
    for line in renewed:
        order = Order.objects.get(pk=attempt(line).order_id)
        assert order.status == "paid" and Receipt.objects.get(order=order).number is not None
        assert Period.objects.filter(line=line).count() == 2
        assert Bucket.objects.filter(line=line, period__order_item__order=order).count() == 3
    # The SMS of a batch is sent by the delivery task, not by the renewing worker.
    sms = Notification.objects.filter(rule="autorenew_succeeded", channel="sms")
    assert sorted(sms.values_list("line_id", flat=True)) == sorted(line.pk for line in renewed)
    assert all("renewed automatically for $25.00" in n.body for n in sms)
    assert set(sms.values_list("status", flat=True)) == {"pending"}
    from refill.notifications.services import notices_deliver

    assert notices_deliver(now=end) >= 4
    assert {m["to"] for m in _sms_outbox} >= {line.msisdn for line in renewed}

    # A second sweep changes nothing.
    with time_machine.travel(end - timedelta(hours=22), tick=False):
        assert autorenew_sweep()["ran"] == 0
    assert Order.objects.filter(status="paid", idempotency_key__startswith="auto:").count() == 4


def three_lines_due_with_a_step_that_breaks_batches(market_plan, monkeypatch, step: str):
    """Three opted-in lines due together, and ``step`` of the engine failing whenever it is given
    more than one attempt (a bug that only bites batches). Returns their period end."""
    market, plan = market_plan
    lines = [opted_in(market, plan, f"{step}{n}") for n in range(3)]
    for line in lines:
        card(line, "4242424242424242")
    real = getattr(autorenew, step)

    def breaks_in_batches(jobs, now):
        if len(jobs) > 1:
            raise RuntimeError("a bug that only bites batches")
        return real(jobs, now)

    monkeypatch.setattr(autorenew, step, breaks_in_batches)
    return lines[0].period_end


def test_a_batch_that_breaks_after_charging_is_left_to_the_stuck_attempt_sweep(market_plan, monkeypatch):
    end = three_lines_due_with_a_step_that_breaks_batches(market_plan, monkeypatch, "jobs_settle")
    with time_machine.travel(end - timedelta(hours=23), tick=False):
        assert autorenew_sweep()["ran"] == 3
    # The batch charged before it broke: those attempts are left for the stuck-attempt sweep,
    # which settles them from their orders (paid) without charging again.
    assert set(RenewalAttempt.objects.values_list("status", flat=True)) == {"running"}
    monkeypatch.undo()
    with time_machine.travel(end - timedelta(hours=22), tick=False):
        assert autorenew.autorenew_settle_stuck() == 3
    assert set(RenewalAttempt.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Payment.objects.filter(status="succeeded").count() == 3 + 3  # the first renewals, then these


def test_a_batch_that_breaks_before_charging_is_run_attempt_by_attempt(market_plan, monkeypatch):
    end = three_lines_due_with_a_step_that_breaks_batches(market_plan, monkeypatch, "jobs_pay")
    with time_machine.travel(end - timedelta(hours=23), tick=False):
        assert autorenew_sweep()["ran"] == 3
    assert set(RenewalAttempt.objects.values_list("status", flat=True)) == {"succeeded"}
    # One order per attempt: the one-by-one run found the order the batch had made.
    assert Order.objects.filter(idempotency_key__startswith="auto:").count() == 3


def test_one_wallet_shared_by_two_lines_in_a_batch_pays_what_it_holds(market_plan):
    market, plan = market_plan
    first = opted_in(market, plan, "twolines", use_wallet=True)
    second = make_line(first.owner, market, plan)
    with time_machine.travel(T0, tick=False):
        renew(second, plan)
    autorenew_update(line=second, actor=None, enabled=True, use_wallet=True)
    card(first, "4242424242424242")
    wallet_adjust(customer=first.owner, currency="USD", amount=Decimal("30.00"), reason="gift", key="w3")
    with time_machine.travel(first.period_end - timedelta(hours=23), tick=False):
        assert autorenew_sweep()["ran"] == 2
    assert set(RenewalAttempt.objects.values_list("status", flat=True)) == {"succeeded"}
    paid = Payment.objects.filter(order__idempotency_key__startswith="auto:", status="succeeded")
    # The wallet paid one line whole and what was left of it towards the other; the card the rest.
    assert sorted((p.method, p.amount) for p in paid) == [
        ("card", Decimal("20.0000")),
        ("wallet", Decimal("5.0000")),
        ("wallet", Decimal("25.0000")),
    ]
    assert wallet_balance(first.owner, "USD") == Decimal("0.00")


def test_a_method_whose_provider_is_not_configured_is_passed_over(market_plan):
    market, plan = market_plan
    line = opted_in(market, plan, "nogateway")
    unknown = card(line, "4242424242424242")
    type(unknown).objects.filter(pk=unknown.pk).update(gateway="retired-provider")
    card(line, "5555555555554444", role="backup")
    with time_machine.travel(line.period_end - timedelta(hours=23), tick=False):
        assert autorenew_sweep()["ran"] == 1
    attempt = RenewalAttempt.objects.get(line=line)
    assert attempt.status == "succeeded"
    # Nothing was recorded for the unusable method: no payment waits for a provider that is not there.
    assert list(Payment.objects.filter(order_id=attempt.order_id).values_list("card_last4", "status")) == [
        ("4444", "succeeded")
    ]


def test_a_claim_takes_at_most_its_size_oldest_first(market_plan):
    market, plan = market_plan
    lines = [opted_in(market, plan, f"claim{n}") for n in range(12)]
    end = lines[0].period_end
    with time_machine.travel(end - timedelta(hours=23), tick=False):
        assert autorenew.autorenew_schedule() == 12
        claimed = autorenew._claim(timezone.now(), 5)
        again = autorenew._claim(timezone.now(), 5)
    assert len(claimed) == 5 and len(again) == 5 and not {a.pk for a in claimed} & {a.pk for a in again}
    assert RenewalAttempt.objects.filter(status="running").count() == 10
    assert RenewalAttempt.objects.filter(status="due").count() == 2
