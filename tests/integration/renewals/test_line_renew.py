from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.catalog.models import PlanPrice
from refill.lines.models import LineStatusChange
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import (
    IdempotencyConflict,
    LineNotRenewable,
    NotOwner,
    PaymentInProgress,
    PlanNotAvailable,
    PriceChanged,
    TooManyPeriods,
)
from refill.orders.models import Order, Receipt
from refill.orders.paying import order_pay_card
from refill.orders.pricing import renewal_quote
from refill.payments.models import Payment
from refill.subscriptions.models import Bucket, Period
from tests.factories import card_token, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
NY = ZoneInfo("America/New_York")
T0 = datetime(2027, 1, 31, 5, 0, tzinfo=UTC)  # midnight in New York


@pytest.fixture
def setup():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer()
    line = make_line(customer, market, plan)
    return market, plan, customer, line


def test_first_renewal_grants_period_buckets_receipt_and_audit(setup):
    market, plan, customer, line = setup
    order, payment = renew(line, plan, now=T0)
    assert order.status == Order.Status.PAID
    assert payment.status == Payment.Status.SUCCEEDED
    period = Period.objects.get(line=line)
    assert (period.start, period.end) == (T0, T0 + timedelta(days=30))
    assert period.order_item.order == order
    assert line.status == "active" and line.period_end == period.end
    kinds = {b.kind: b for b in Bucket.objects.filter(line=line)}
    assert kinds["data"].granted == 20480 and kinds["data"].expires_at == period.end
    receipt = Receipt.objects.get(order=order)
    assert receipt.total == Decimal("25.00") and receipt.number == 1
    assert AuditEvent.objects.filter(action="order.paid", object_id=str(order.pk)).exists()
    assert LineStatusChange.objects.filter(line=line, to_status="active", cause="renewal").exists()
    assert payment.card_last4 == "4242"
    assert not any("4242424242424242" in str(v) for v in Payment.objects.values().first().values())


def test_early_renewal_stacks_on_current_end(setup):
    market, plan, customer, line = setup
    renew(line, plan, now=T0)
    renew(line, plan, now=T0 + timedelta(days=10), periods=2)
    ends = list(Period.objects.filter(line=line).order_by("start").values_list("start", "end"))
    assert len(ends) == 3
    for (_, end), (start, _) in zip(ends, ends[1:], strict=False):
        assert end == start
    # 90 calendar days at New York midnight (across the DST change, so not 90 x 24 h)
    assert line.period_end.astimezone(NY) == datetime(2027, 5, 1, 0, 0, tzinfo=NY)


def test_lapsed_renewal_starts_now_and_restores_line(setup):
    market, plan, customer, line = setup
    renew(line, plan, now=T0)
    from refill.lines.services import lines_lapse_sweep

    later = T0 + timedelta(days=33)
    assert lines_lapse_sweep(now=later) == 1
    assert lines_lapse_sweep(now=later) == 0  # running the sweep again changes nothing
    line.refresh_from_db()
    assert line.status == "grace"
    renew(line, plan, now=later)
    newest = Period.objects.filter(line=line).order_by("-start").first()
    assert newest.start == later  # the three lapsed days are not charged
    assert line.status == "active"
    assert list(LineStatusChange.objects.filter(line=line).values_list("to_status", flat=True)) == [
        "active",
        "grace",
        "active",
    ]


def test_calendar_month_plan_keeps_the_31st(setup):
    market, _, customer, line = setup
    monthly = make_plan(market, "us-month", validity_kind="months", validity_count=1, price="35.00")
    renew(line, monthly, now=T0)
    renew(line, monthly, now=T0 + timedelta(days=5))
    renew(line, monthly, now=T0 + timedelta(days=6))
    ends = [p.end.astimezone(NY).date().isoformat() for p in Period.objects.filter(line=line).order_by("start")]
    assert ends == ["2027-02-28", "2027-03-31", "2027-04-30"]


def test_decline_changes_nothing_on_the_line(setup):
    market, plan, customer, line = setup
    renew(line, plan, now=T0)
    before = (line.status, line.period_end, Period.objects.count(), Bucket.objects.count(), Receipt.objects.count())
    order, payment = renew(line, plan, now=T0 + timedelta(days=1), card="4000000000009995")
    assert payment.status == Payment.Status.FAILED and payment.decline_code == "insufficient_funds"
    assert order.status == Order.Status.AWAITING_PAYMENT
    line.refresh_from_db()
    assert (
        line.status,
        line.period_end,
        Period.objects.count(),
        Bucket.objects.count(),
        Receipt.objects.count(),
    ) == before


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("4000000000009995", "insufficient_funds"),
        ("4000000000009987", "card_over_limit"),
        ("4000000000009979", "card_frozen"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
        ("4000000000000002", "do_not_honour"),
        ("4000000000000119", "network_error"),
    ],
)
def test_each_sandbox_decline_card(setup, card, code):
    market, plan, customer, line = setup
    order, payment = renew(line, plan, now=T0, card=card)
    assert (payment.status, payment.decline_code) == ("failed", code)
    assert not Period.objects.filter(line=line).exists()


def test_retry_after_decline_pays_the_same_order_once(setup):
    market, plan, customer, line = setup
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="k1", now=T0)
    gateway, bad = card_token("4000000000009995")
    order_pay_card(order=order, token=bad, gateway=gateway, now=T0)
    gateway, good = card_token()
    order_pay_card(order=order, token=good, gateway=gateway, now=T0)
    order_pay_card(order=order, token=good, gateway=gateway, now=T0)  # a replay charges nothing more
    assert list(order.payments.order_by("pk").values_list("status", flat=True)) == ["failed", "succeeded"]
    assert Period.objects.filter(line=line).count() == 1


def test_replayed_key_returns_the_same_order_and_other_body_is_refused(setup):
    market, plan, customer, line = setup
    first = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="same", now=T0)
    again = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="same", now=T0)
    assert first.pk == again.pk
    with pytest.raises(IdempotencyConflict):
        order_create_renewal(customer=customer, line=line, plan=plan, periods=2, idempotency_key="same", now=T0)
    assert Order.objects.count() == 1


def test_open_payment_blocks_a_second_attempt(setup):
    market, plan, customer, line = setup
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="k", now=T0)
    Payment.objects.create(
        order=order, idempotency_key="stuck", gateway="sandbox", amount=order.total, currency="USD", status="unknown"
    )
    gateway, token = card_token()
    with pytest.raises(PaymentInProgress):
        order_pay_card(order=order, token=token, gateway=gateway, now=T0)
    assert order.payments.count() == 1


def test_prepaid_limit(setup):
    market, _, customer, line = setup
    plan = make_plan(market, "short", max_prepaid_periods=3)
    renew(line, plan, now=T0, periods=2)
    with pytest.raises(TooManyPeriods) as caught:
        renewal_quote(line=line, plan=plan, periods=2, now=T0)
    assert "at most 3" in str(caught.value) and "add 1 now" in str(caught.value)
    renewal_quote(line=line, plan=plan, periods=1, now=T0)


def test_sold_price_never_changes(setup):
    market, plan, customer, line = setup
    order, _ = renew(line, plan, now=T0)
    PlanPrice.objects.create(
        plan=plan, version=2, currency="USD", amount=Decimal("30.00"), valid_from=T0 + timedelta(days=1)
    )
    item = order.items.get()
    assert item.unit_price == Decimal("25.00") and item.plan_price.version == 1
    assert renewal_quote(line=line, plan=plan, periods=1, now=T0 + timedelta(days=2)).quote.total.amount == Decimal(
        "30.00"
    )
    with pytest.raises(PriceChanged):
        order_create_renewal(
            customer=customer,
            line=line,
            plan=plan,
            periods=1,
            idempotency_key="late",
            expected_total=Decimal("25.00"),
            now=T0 + timedelta(days=2),
        )


def test_refusals(setup):
    market, plan, customer, line = setup
    other_market = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    cn_plan = make_plan(other_market, "cn-30", price="68.00")
    addon = make_plan(market, "addon", kind="addon")
    with pytest.raises(PlanNotAvailable):
        renewal_quote(line=line, plan=cn_plan, periods=1)
    with pytest.raises(PlanNotAvailable):
        renewal_quote(line=line, plan=addon, periods=1)
    stranger, _ = make_customer()
    with pytest.raises(NotOwner):
        order_create_renewal(customer=stranger, line=line, plan=plan, periods=1, idempotency_key="x")
    line.status = "aging"
    line.save()
    with pytest.raises(LineNotRenewable):
        renewal_quote(line=line, plan=plan, periods=1)
    assert Order.objects.count() == 0


def test_rollover_once(setup):
    market, _, customer, line = setup
    plan = make_plan(market, "roll", rollover="once", data_mb=1000)
    renew(line, plan, now=T0, periods=3)
    buckets = list(Bucket.objects.filter(line=line, kind="data").order_by("valid_from"))
    periods = list(Period.objects.filter(line=line).order_by("start"))
    # each period's data lives through the next period, and no further
    assert buckets[0].expires_at == periods[1].end and buckets[0].rolled_over
    assert buckets[1].expires_at == periods[2].end and buckets[1].rolled_over
    assert buckets[2].expires_at == periods[2].end and not buckets[2].rolled_over


def test_database_refuses_a_second_grant_for_the_same_item(setup):
    market, plan, customer, line = setup
    order, _ = renew(line, plan, now=T0)
    period = Period.objects.get(line=line)
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.create(
            line=line,
            plan=plan,
            order_item=period.order_item,
            sequence=1,
            start=period.end,
            end=period.end + timedelta(days=30),
        )


def test_receipt_numbers_are_gap_free_per_series(setup):
    market, plan, customer, line = setup
    renew(line, plan, now=T0)
    renew(line, plan, now=T0, card="4000000000009995")  # declined: takes no number
    renew(line, plan, now=T0)
    numbers = list(Receipt.objects.order_by("number").values_list("series_id", "number"))
    assert numbers == [("US-2027", 1), ("US-2027", 2)]


def test_repeated_declines_are_stopped_for_an_hour(setup):
    from refill.orders.errors import TooManyDeclines

    market, plan, customer, line = setup
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="cards")
    gateway, bad = card_token("4000000000000002")
    for _ in range(10):
        order_pay_card(order=order, token=bad, gateway=gateway)
    gateway, good = card_token()
    with pytest.raises(TooManyDeclines):
        order_pay_card(order=order, token=good, gateway=gateway)
    assert order.payments.count() == 10
    Payment.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert order_pay_card(order=order, token=good, gateway=gateway).status == "succeeded"


def test_an_unknown_payment_blocks_new_charges_for_the_line(setup):
    market, plan, customer, line = setup
    first = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="a", now=T0)
    Payment.objects.create(
        order=first, idempotency_key="lost", gateway="sandbox", amount=first.total, currency="USD", status="unknown"
    )
    second = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="b", now=T0)
    gateway, token = card_token()
    with pytest.raises(PaymentInProgress):
        order_pay_card(order=second, token=token, gateway=gateway, now=T0)
    assert not second.payments.exists()


def test_a_charge_is_kept_when_fulfilment_fails_and_the_task_finishes_it(setup, request):
    from refill.renewals.tasks import fulfil_paid_order

    market, plan, customer, line = setup
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="k", now=T0)
    gateway, token = card_token()
    real_charge = gateway.charge

    def charge_then_port_out(charge_request):
        result = real_charge(charge_request)
        type(line).objects.filter(pk=line.pk).update(status="ported_out")  # the line left while we charged
        return result

    gateway.charge = charge_then_port_out
    payment = order_pay_card(order=order, token=token, gateway=gateway, now=T0)
    order.refresh_from_db()
    assert payment.status == "succeeded" and order.status == "awaiting_payment"  # money recorded, not lost
    from refill.invariants.checks import run_all

    assert any("successful payment" in problem for problem in run_all())  # flagged for staff
    type(line).objects.filter(pk=line.pk).update(status="active")
    assert fulfil_paid_order.call(order.pk) is True
    order.refresh_from_db()
    assert order.status == "paid" and Period.objects.filter(order_item__order=order).count() == 1
    assert run_all() == []


def test_keep_my_number_plan_retains_the_line(setup):
    from refill.lines.services import lines_lapse_sweep

    market, plan, customer, line = setup
    keep = make_plan(market, "keep", kind="retention", data_mb=0, voice_minutes=0, sms=0, price="2.00")
    renew(line, plan, now=T0)  # active until T0 + 30 days
    renew(line, keep, now=T0 + timedelta(days=5))  # stacked: still active now
    assert line.status == "active"
    boundary = line.periods.order_by("start").first().end
    assert lines_lapse_sweep(now=boundary + timedelta(minutes=1)) == 1
    line.refresh_from_db()
    assert line.status == "retained"
    renew(line, plan, now=boundary + timedelta(days=1))  # stacks after the retention period
    later = line.periods.order_by("-start").first().start + timedelta(minutes=1)
    lines_lapse_sweep(now=later)
    line.refresh_from_db()
    assert line.status == "active"
    assert list(LineStatusChange.objects.filter(line=line).values_list("to_status", flat=True)) == [
        "active",
        "retained",
        "active",
    ]


def test_lapsed_line_buying_keep_my_number_is_retained_at_once(setup):
    market, plan, customer, line = setup
    keep = make_plan(market, "keep2", kind="retention", data_mb=0, voice_minutes=0, sms=0, price="2.00")
    renew(line, keep, now=T0)
    assert line.status == "retained"


def test_receipt_series_year_is_the_markets(setup):
    market, plan, customer, line = setup
    new_years_eve = datetime(2026, 12, 31, 23, 30, tzinfo=NY).astimezone(UTC)  # already 2027 in UTC
    order, _ = renew(line, plan, now=new_years_eve)
    assert order.receipt.series_id == "US-2026"
