"""The auto-renew engine, driven through time with time-machine: first attempt a day before the end,
wallet then default then backup card (off session), retries on the schedule until grace ends, caps,
lost answers, the retention fallback, and the customer told each time."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from refill.catalog.models import Plan
from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_adjust
from refill.lines.services import lines_lapse_sweep
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.orders.settling import payments_reconcile
from refill.payments.models import Payment
from refill.payments.services import method_add, method_set_role
from refill.renewals.autorenew import autorenew_sweep, autorenew_update
from refill.renewals.models import RenewalAttempt
from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
# Noon in New York: outside SMS quiet hours.
T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


@pytest.fixture
def line():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, _ = make_customer("auto@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    return line


def save_card(line, number, role=None):
    card = CardDetails(number=number, exp_month=12, exp_year=2039, cvc="123")
    method = method_add(customer=line.owner, gateway=SandboxGateway(), card=card)
    if role:
        method_set_role(method=method, role=role)
    return method


def sweep_at(when):
    with time_machine.travel(when, tick=False):
        return autorenew_sweep()


def end_of(line) -> datetime:
    line.refresh_from_db()
    return line.period_end


def test_renewed_once_a_day_before_the_end_with_the_default_card(line, _sms_outbox):
    save_card(line, "4242424242424242")
    autorenew_update(line=line, actor=None, enabled=True)
    end = end_of(line)
    assert sweep_at(end - timedelta(hours=25))["ran"] == 0  # not yet due
    assert sweep_at(end - timedelta(hours=23))["ran"] == 1
    assert sweep_at(end - timedelta(hours=22))["ran"] == 0  # a second sweep finds nothing to do
    assert end_of(line) == end + timedelta(days=30)
    attempt = RenewalAttempt.objects.get()
    assert (attempt.status, attempt.number) == ("succeeded", 1)
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    assert Payment.objects.get(order_id=attempt.order_id).card_last4 == "4242"
    assert [m["to"] for m in _sms_outbox] == [line.msisdn] and "renewed automatically" in _sms_outbox[0]["body"]


def test_the_wallet_pays_first_when_it_covers_the_price(line):
    save_card(line, "4242424242424242")
    wallet_adjust(customer=line.owner, currency="USD", amount=Decimal("30.00"), reason="gift", key="w")
    autorenew_update(line=line, actor=None, enabled=True)
    sweep_at(end_of(line) - timedelta(hours=1))
    attempt = RenewalAttempt.objects.get()
    assert attempt.status == "succeeded"
    assert list(Payment.objects.filter(order_id=attempt.order_id).values_list("method", flat=True)) == ["wallet"]


def test_a_declined_default_card_falls_back_to_the_backup(line):
    save_card(line, "4000000000009995")  # insufficient funds, the default
    save_card(line, "5555555555554444", role="backup")
    autorenew_update(line=line, actor=None, enabled=True)
    sweep_at(end_of(line) - timedelta(hours=1))
    attempt = RenewalAttempt.objects.get()
    assert attempt.status == "succeeded"
    payments = Payment.objects.filter(order_id=attempt.order_id).order_by("pk")
    assert [(p.card_last4, p.status) for p in payments] == [("9995", "failed"), ("4444", "succeeded")]
    assert Period.objects.filter(line=line).count() == 2


def test_failures_retry_on_the_schedule_and_stop_when_grace_ends(line, _sms_outbox):
    save_card(line, "4000000000009995")
    autorenew_update(line=line, actor=None, enabled=True)
    end = end_of(line)
    expected = [
        end - timedelta(hours=24),
        end - timedelta(hours=18),
        end,
        end + timedelta(days=1),
        end + timedelta(days=3),
    ]
    for number, due in enumerate(expected, start=1):
        assert sweep_at(due - timedelta(minutes=1))["ran"] == 0
        with time_machine.travel(due + timedelta(minutes=1), tick=False):
            lines_lapse_sweep()
            assert autorenew_sweep()["ran"] == 1
        attempt = RenewalAttempt.objects.get(number=number)
        assert (attempt.due_at, attempt.status, attempt.reason) == (due, "failed", "insufficient_funds")
    assert sweep_at(end + timedelta(days=8))["ran"] == 0
    assert RenewalAttempt.objects.count() == 5 and Period.objects.filter(line=line).count() == 1
    # Told each time, in plain words, with the next try or that it was the last.
    failed = Notification.objects.filter(rule="autorenew_failed", channel="email").order_by("pk")
    assert failed.count() == 5
    assert "not enough money" in failed[0].body and "try again on" in failed[0].body
    assert "last try" in failed.last().body
    assert len([m for m in _sms_outbox if "auto-renew" in m["body"]]) == 5
    assert all(m.extra_headers["Content-Language"] == "en" for m in mail.outbox)


def test_over_the_cap_is_not_attempted_until_the_customer_raises_it(line):
    save_card(line, "4242424242424242")
    autorenew_update(line=line, actor=None, enabled=True, cap_per_renewal=Decimal("20.00"))
    end = end_of(line)
    sweep_at(end - timedelta(hours=23))
    first = RenewalAttempt.objects.get(number=1)
    assert (first.status, first.reason, first.order_id) == ("over_cap", "renewal_cap", None)
    assert not Payment.objects.filter(created_at__gte=T0 + timedelta(days=1)).exists()
    told = Notification.objects.get(rule="autorenew_over_cap", channel="email")
    assert "$25.00" in told.body and "$20.00" in told.body and "/auto-renew/" in told.body
    autorenew_update(line=line, actor=None, cap_per_renewal=Decimal("30.00"))
    sweep_at(end - timedelta(hours=17))
    assert RenewalAttempt.objects.get(number=2).status == "succeeded"
    assert end_of(line) == end + timedelta(days=30)


def test_the_monthly_cap_counts_this_months_auto_renewals():
    market = make_market()
    daily = make_plan(market, "us-daily", price="2.00", validity_count=1, max_prepaid_periods=30)
    customer, _ = make_customer("daily@example.com")
    line = make_line(customer, market, daily, msisdn="+12025550144")
    with time_machine.travel(T0, tick=False):
        renew(line, daily)
    save_card(line, "4242424242424242")
    autorenew_update(line=line, actor=None, enabled=True, cap_per_month=Decimal("5.00"))
    for _day in range(3):
        sweep_at(end_of(line) - timedelta(hours=1))
    statuses = list(RenewalAttempt.objects.order_by("cycle_end", "number").values_list("status", "reason"))
    assert statuses[:2] == [("succeeded", ""), ("succeeded", "")]
    assert statuses[2] == ("over_cap", "month_cap")
    paid = Order.objects.filter(status="paid", idempotency_key__startswith="auto:").count()
    assert paid * Decimal("2.00") <= Decimal("5.00")


def test_a_lost_answer_waits_for_reconciliation_and_never_charges_again(line):
    save_card(line, "4000000000000341")  # charged, answer lost
    autorenew_update(line=line, actor=None, enabled=True)
    end = end_of(line)
    sweep_at(end - timedelta(hours=23))
    attempt = RenewalAttempt.objects.get()
    assert attempt.status == "running"
    sweep_at(end - timedelta(hours=22))  # nothing new while the charge is unknown
    assert RenewalAttempt.objects.count() == 1 and Payment.objects.filter(order_id=attempt.order_id).count() == 1
    with time_machine.travel(end - timedelta(hours=22), tick=False):
        payments_reconcile()
    sweep_at(end - timedelta(hours=21))
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and end_of(line) == end + timedelta(days=30)


def test_a_manual_renewal_makes_the_attempt_unnecessary(line):
    save_card(line, "4242424242424242")
    autorenew_update(line=line, actor=None, enabled=True)
    end = end_of(line)
    sweep_at(end - timedelta(days=3))  # not due yet, nothing scheduled
    with time_machine.travel(end - timedelta(days=2), tick=False):
        renew(line, line.plan)
    sweep_at(end - timedelta(hours=23))
    assert not RenewalAttempt.objects.filter(cycle_end=end).exclude(status="skipped").exists()


def test_off_session_a_card_that_needs_the_bank_fails_with_a_clear_reason(line):
    save_card(line, "4000000000003162")
    autorenew_update(line=line, actor=None, enabled=True)
    sweep_at(end_of(line) - timedelta(hours=1))
    attempt = RenewalAttempt.objects.get(number=1)
    assert (attempt.status, attempt.reason) == ("failed", "authentication_failed")
    assert "confirm this payment yourself" in Notification.objects.get(rule="autorenew_failed", channel="email").body


def test_the_retention_fallback_keeps_the_number_when_the_plan_cannot_be_paid(line):
    keep = make_plan(line.market, "us-keep", kind="retention", price="3.00", data_mb=0, voice_minutes=0, sms=0)
    Plan.objects.filter(pk=line.plan_id).update(retention_plan=keep)
    wallet_adjust(customer=line.owner, currency="USD", amount=Decimal("3.00"), reason="gift", key="w")
    autorenew_update(line=line, actor=None, enabled=True, retention_fallback=True)
    end = end_of(line)
    for due in [
        end - timedelta(hours=24),
        end - timedelta(hours=18),
        end,
        end + timedelta(days=1),
        end + timedelta(days=3),
    ]:
        with time_machine.travel(due + timedelta(minutes=1), tick=False):
            lines_lapse_sweep()
            autorenew_sweep()
    sweep_at(end + timedelta(days=3, minutes=2))  # the next minute's sweep buys the retention plan
    fallback = RenewalAttempt.objects.get(number=6)
    assert fallback.plan == keep and fallback.status == "succeeded"
    with time_machine.travel(end + timedelta(days=3, minutes=5), tick=False):
        lines_lapse_sweep()
    line.refresh_from_db()
    assert line.status == "retained"
    assert not Notification.objects.filter(rule="autorenew_failed", subject_key__endswith=":5").exists()


def test_sms_waits_for_the_end_of_quiet_hours_in_the_customers_time_zone(line, _sms_outbox):
    save_card(line, "4000000000009995")
    autorenew_update(line=line, actor=None, enabled=True)
    # 23:30 in New York
    night = datetime(2026, 3, 31, 3, 30, tzinfo=UTC)
    RenewalAttempt.objects.create(line=line, cycle_end=end_of(line), number=1, due_at=night)
    sweep_at(night)
    assert Notification.objects.get(rule="autorenew_failed", channel="email").status == "sent"
    sms = Notification.objects.get(rule="autorenew_failed", channel="sms")
    assert sms.status == "pending" and sms.send_after == datetime(2026, 3, 31, 13, 0, tzinfo=UTC)  # 09:00 EDT
    from refill.notifications.services import notices_deliver

    with time_machine.travel(datetime(2026, 3, 31, 12, 59, tzinfo=UTC), tick=False):
        assert notices_deliver() == 0
    with time_machine.travel(datetime(2026, 3, 31, 13, 1, tzinfo=UTC), tick=False):
        assert notices_deliver() == 1
    assert len(_sms_outbox) == 1


def test_when_refill_refuses_to_charge_the_customer_is_told_why(line):
    from refill.orders.paying import DECLINE_LIMIT_PER_HOUR

    save_card(line, "4000000000009995")
    end = end_of(line)
    with time_machine.travel(end - timedelta(hours=2), tick=False):
        for n in range(DECLINE_LIMIT_PER_HOUR):
            renew(line, line.plan, card="4000000000009995", key=f"manual-{n}")
    autorenew_update(line=line, actor=None, enabled=True)
    sweep_at(end - timedelta(hours=1))
    attempt = RenewalAttempt.objects.get(number=1)
    assert (attempt.status, attempt.reason) == ("failed", "too_many_declines")
    assert "paused charging" in Notification.objects.get(rule="autorenew_failed", channel="email").body
