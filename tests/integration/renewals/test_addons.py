"""Add-on passes (domain.md rule 5): bought for the line's running period, paid like a renewal,
granted once as buckets that end with the period (or with the pass, if sooner), booked as add-on
revenue, and ended by a full refund under the revoke policy."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from refill.audit.models import AuditEvent
from refill.catalog.models import PlanPrice
from refill.invariants.checks import run_all
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import account_balance, account_for, wallet_balance
from refill.lines.services import lines_lapse_sweep
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import AddonLineNotRunning, IdempotencyConflict, NotOwner, PlanNotAvailable, PriceChanged
from refill.orders.fulfilment import order_fulfil, order_fulfil_paid
from refill.orders.models import Order, OrderItem
from refill.orders.paying import order_pay_card, order_pay_wallet, payment_start
from refill.orders.refunds import order_refund
from refill.orders.settling import payment_complete
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment
from refill.renewals.addons import AddonNotAvailable, addon_quote, order_create_addon
from refill.subscriptions.models import Bucket, Period
from refill.subscriptions.selectors import line_allowances
from tests.factories import card_token, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)  # midnight in New York; no DST change for two months
GB = 1024


@pytest.fixture
def world():
    market = make_market(tax_rate=Decimal("0.0800"), tax_inclusive=False)
    base = make_plan(market, "us-30day", price="25.00")
    booster = make_plan(
        market,
        "us-data-5gb",
        kind="addon",
        price="10.00",
        data_mb=5 * GB,
        voice_minutes=0,
        sms=0,
        name_en="5 GB Data Booster",
        name_zh_hans="5GB 流量加油包",
    )
    customer, _ = make_customer()
    line = make_line(customer, market, base, msisdn="+12025550143")
    renew(line, base, now=T0)  # a 30-day period [T0, T0 + 30 d)
    return market, base, booster, customer, line


def addon_order(line, plan, *, at, key="addon-1", **extra) -> Order:
    return order_create_addon(
        customer=line.owner, line=line, plan=plan, idempotency_key=key, language="en", now=at, **extra
    )


def pay_by_card(order, *, at, card="4242424242424242"):
    gateway, token = card_token(card)
    payment = order_pay_card(order=order, token=token, gateway=gateway, now=at)
    order.refresh_from_db()
    return payment


def ledger_check_output() -> str:
    out = StringIO()
    call_command("ledger_check", stdout=out)
    return out.getvalue()


def test_a_pass_paid_by_card_grants_its_buckets_once_until_the_period_ends(world):
    market, base, booster, customer, line = world
    before = (line.period_end, line.plan_id, line.status, Period.objects.count())
    at = T0 + timedelta(days=10)

    order = addon_order(line, booster, at=at)
    # priced like a renewal: the market's tax (8 %, added) on the current price
    item = order.items.get()
    assert item.kind == OrderItem.Kind.ADDON and item.plan == booster and item.periods == 1
    assert (order.subtotal, order.tax, order.total) == (Decimal("10.00"), Decimal("0.80"), Decimal("10.80"))
    payment = pay_by_card(order, at=at)

    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID
    granted = list(Bucket.objects.filter(source=Bucket.Source.ADDON))
    assert len(granted) == 1  # 5 GB of data; the pass gives no minutes or SMS
    bucket = granted[0]
    running = Period.objects.get(line=line)
    # the 30-day pass would run to T0 + 40 d: it ends with the period instead (rule 5)
    assert (bucket.kind, bucket.granted, bucket.valid_from, bucket.expires_at) == ("data", 5 * GB, at, running.end)
    assert bucket.period == running and bucket.order_item == item and bucket.line == line
    # no new period; the line's end, plan and status are as they were
    line.refresh_from_db()
    assert (line.period_end, line.plan_id, line.status, Period.objects.count()) == before
    assert line_allowances(line, at + timedelta(hours=1))["data"].granted == 20480 + 5 * GB
    assert AuditEvent.objects.filter(action="order.paid", object_id=str(order.pk)).count() == 1
    assert order.receipt is not None

    # exactly once: fulfilling again, or paying again, grants nothing more
    assert order_fulfil_paid(order_id=order.pk, now=at) is True
    pay_by_card(order, at=at)
    assert Bucket.objects.filter(source=Bucket.Source.ADDON).count() == 1
    assert Payment.objects.filter(order=order).count() == 1
    # and a worker holding a stale copy of the order cannot grant twice: the database refuses it
    stale = Order.objects.get(pk=order.pk)
    stale.status = Order.Status.AWAITING_PAYMENT
    with pytest.raises(IntegrityError), transaction.atomic():
        order_fulfil(order=stale, payments=[payment], now=at)
    assert Bucket.objects.filter(source=Bucket.Source.ADDON).count() == 1
    assert run_all() == []


def test_a_short_pass_ends_with_its_own_validity(world):
    market, base, booster, customer, line = world
    week = make_plan(market, "us-voice-week", kind="addon", price="3.00", validity_count=7, data_mb=0,
                     voice_minutes=100, sms=50)  # fmt: skip
    at = T0 + timedelta(days=1, hours=6)
    quote = addon_quote(line=line, plan=week, now=at)
    assert quote.valid_until == at + timedelta(days=7) and not quote.ends_with_period
    pay_by_card(addon_order(line, week, at=at), at=at)
    buckets = {b.kind: b for b in Bucket.objects.filter(source=Bucket.Source.ADDON)}
    assert set(buckets) == {"voice", "sms"}
    assert {b.expires_at for b in buckets.values()} == {at + timedelta(days=7)}
    assert (buckets["voice"].granted, buckets["sms"].granted) == (100, 50)


def test_a_pass_paid_from_the_wallet_books_addon_revenue(world):
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=3)
    topup = order_create_topup(customer=customer, market=market, amount=Decimal("50.00"), idempotency_key="t")
    pay_by_card(topup, at=at)

    order = addon_order(line, booster, at=at)
    payment = order_pay_wallet(order=order, now=at)
    order.refresh_from_db()

    assert payment.method == Payment.Method.WALLET and order.status == Order.Status.PAID
    assert wallet_balance(customer, "USD") == Decimal("39.20")
    assert Bucket.objects.filter(order_item__order=order, kind="data").count() == 1
    capture = JournalEntry.objects.get(idempotency_key=f"order:{order.pk}:capture")
    postings = {(line.account.purpose, line.account.reference): line.amount for line in capture.lines.all()}
    assert postings[(Account.Purpose.REVENUE, "addon")] == Decimal("-10.00")
    assert postings[(Account.Purpose.TAX, "us")] == Decimal("-0.80")
    assert account_balance(account_for(Account.Purpose.REVENUE, "USD", reference="addon")) == Decimal("10.00")
    assert run_all() == []
    assert "all invariants hold" in ledger_check_output()


def test_ledger_check_flags_a_paid_pass_without_its_buckets(world, request):
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=3)
    order = addon_order(line, booster, at=at)
    pay_by_card(order, at=at)
    Bucket.objects.filter(order_item__order=order).delete()  # what the check is there to catch
    request.node.allow_broken_invariants = True
    assert f"paid add-on order {order.pk} has no add-on buckets" in run_all()
    errors = StringIO()
    with pytest.raises(SystemExit):
        call_command("ledger_check", stdout=StringIO(), stderr=errors)
    assert f"BROKEN: paid add-on order {order.pk} has no add-on buckets" in errors.getvalue()


def test_the_same_key_replays_and_another_request_with_it_is_refused(world):
    market, base, booster, customer, line = world
    other = make_plan(market, "us-data-1gb", kind="addon", price="3.00", data_mb=GB, voice_minutes=0, sms=0)
    at = T0 + timedelta(days=2)
    first = addon_order(line, booster, at=at)
    assert addon_order(line, booster, at=at) == first
    with pytest.raises(IdempotencyConflict):
        addon_order(line, other, at=at)
    with pytest.raises(IdempotencyConflict):  # a renewal under the add-on's key is another request too
        order_create_renewal(customer=customer, line=line, plan=base, periods=1, idempotency_key="addon-1", now=at)
    assert Order.objects.filter(customer=customer, idempotency_key="addon-1").count() == 1
    # the price shown must still be the price
    with pytest.raises(PriceChanged):
        addon_order(line, booster, at=at, key="addon-2", expected_total=Decimal("10.00"))
    assert addon_order(line, booster, at=at, key="addon-3", expected_total=Decimal("10.80")).total == Decimal("10.80")


def test_someone_elses_line_is_not_found(world):
    market, base, booster, customer, line = world
    stranger, _ = make_customer()
    with pytest.raises(NotOwner):
        order_create_addon(customer=stranger, line=line, plan=booster, idempotency_key="k", language="en", now=T0)


@pytest.mark.parametrize("how", ["period ended", "lapse sweep ran", "renewal refunded"])
def test_a_line_without_a_running_period_is_refused_and_nothing_is_written(world, how):
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=31)
    if how == "lapse sweep ran":
        lines_lapse_sweep(now=at)
    elif how == "renewal refunded":
        at = T0 + timedelta(days=5)
        renewal = Order.objects.get(line=line, status=Order.Status.PAID)
        order_refund(order=renewal, amount=renewal.total, destination="original", reason="x", idempotency_key="r",
                     now=at - timedelta(hours=1))  # fmt: skip
    line.refresh_from_db()
    orders, events = Order.objects.count(), AuditEvent.objects.count()
    with pytest.raises(AddonLineNotRunning) as refused:
        addon_order(line, booster, at=at)
    assert "Renew the number first" in str(refused.value)
    assert (Order.objects.count(), AuditEvent.objects.count()) == (orders, events)


def test_a_plan_of_another_market_or_not_an_addon_is_refused(world):
    market, base, booster, customer, line = world
    china = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    voice = make_plan(china, "cn-voice-300", kind="addon", price="20.00", data_mb=0, voice_minutes=300, sms=0)
    empty = make_plan(market, "us-nothing", kind="addon", price="1.00", data_mb=0, voice_minutes=0, sms=0)
    orders = Order.objects.count()
    for plan in (voice, base, empty):
        with pytest.raises(AddonNotAvailable):
            addon_order(line, plan, at=T0 + timedelta(days=1), key=f"k-{plan.code}")
    booster.is_active = False
    booster.save()
    with pytest.raises(AddonNotAvailable):
        addon_order(line, booster, at=T0 + timedelta(days=1))
    assert Order.objects.count() == orders


def test_a_pass_cannot_be_paid_once_the_line_has_lapsed(world):
    market, base, booster, customer, line = world
    order = addon_order(line, booster, at=T0 + timedelta(days=29, hours=23))
    after_end = T0 + timedelta(days=30, hours=1)
    gateway, token = card_token()
    with pytest.raises(AddonLineNotRunning):
        order_pay_card(order=order, token=token, gateway=gateway, now=after_end)
    with pytest.raises(AddonLineNotRunning):
        order_pay_wallet(order=order, now=after_end)
    lines_lapse_sweep(now=after_end)
    with pytest.raises(AddonLineNotRunning):
        order_pay_card(order=order, token=token, gateway=gateway, now=after_end)
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert not order.payments.exists() and not Bucket.objects.filter(source=Bucket.Source.ADDON).exists()


def test_a_pass_whose_price_changed_or_that_was_withdrawn_is_not_paid(world):
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=1)
    order = addon_order(line, booster, at=at)
    PlanPrice.objects.create(plan=booster, version=2, currency="USD", amount=Decimal("12.00"), valid_from=at)
    gateway, token = card_token()
    with pytest.raises(PriceChanged):
        order_pay_card(order=order, token=token, gateway=gateway, now=at + timedelta(minutes=1))
    fresh = addon_order(line, booster, at=at + timedelta(minutes=2), key="addon-2")
    booster.is_active = False
    booster.save()
    with pytest.raises(PlanNotAvailable):
        order_pay_card(order=fresh, token=token, gateway=gateway, now=at + timedelta(minutes=3))
    assert not Payment.objects.filter(order__in=[order, fresh]).exists()


def test_no_prepaid_limit_applies_to_passes(world):
    market, base, booster, customer, line = world
    base.max_prepaid_periods = 1  # the line is prepaid to the limit
    base.save()
    at = T0 + timedelta(days=1)
    for n in range(3):
        pay_by_card(addon_order(line, booster, at=at, key=f"k{n}"), at=at)
    assert Bucket.objects.filter(source=Bucket.Source.ADDON).count() == 3


@pytest.mark.parametrize("wallet_part", [Decimal(0), Decimal("4.00")])
def test_a_charge_confirmed_after_the_line_lapsed_is_refunded_in_full(world, wallet_part):
    """A payment started while the period ran and answered after it ended (the bank's step took
    long): the pass cannot be granted, so the customer gets all of it back at once, the card part
    to the card and a wallet part to the wallet, told "could not be delivered". Nothing is kept
    without a grant, and the after-test ledger check runs as for every test."""
    market, base, booster, customer, line = world
    started = T0 + timedelta(days=29, hours=23)
    if wallet_part:
        top = order_create_topup(customer=customer, market=market, amount=Decimal("10.00"), idempotency_key="top")
        pay_by_card(top, at=started - timedelta(hours=1))
    order = addon_order(line, booster, at=started)
    gateway, token = card_token()
    from refill.orders.models import Refund
    from refill.orders.paying import charge_request
    from refill.orders.refunds import addon_undelivered_key
    from refill.payments.models import SandboxCharge

    payment = payment_start(order=order, token=token, gateway=gateway, wallet_amount=wallet_part, now=started)
    result = gateway.charge(charge_request(payment, token.token))
    payment = payment_complete(payment=payment, result=result, now=T0 + timedelta(days=30, hours=1))
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID
    assert SandboxCharge.objects.get(idempotency_key=payment.idempotency_key).amount == order.total - wallet_part
    assert not Bucket.objects.filter(source=Bucket.Source.ADDON).exists()  # nothing granted...
    refund = Refund.objects.get(order=order)  # ...and everything given back
    assert refund.idempotency_key == addon_undelivered_key(order.pk)
    assert (refund.status, refund.amount, refund.destination, refund.reason_code) == (
        "succeeded",
        order.total,
        "original",
        "not_delivered",
    )
    assert (refund.card_amount, refund.wallet_amount) == (order.total - wallet_part, wallet_part)
    assert wallet_balance(customer, "USD") == (Decimal("10.00") if wallet_part else Decimal(0))
    assert run_all() == []


def test_a_paid_pass_that_granted_nothing_and_was_not_refunded_is_flagged(world, request, monkeypatch):
    """The exception is narrow: if the refund could not be made (the provider refused it), the
    order is flagged for staff, and the payment itself stays recorded."""
    market, base, booster, customer, line = world
    from refill.integrations.payments.base import ChargeStatus, RefundResult
    from refill.integrations.payments.sandbox import SandboxGateway
    from refill.orders.paying import charge_request

    monkeypatch.setattr(SandboxGateway, "refund", lambda self, request: RefundResult(ChargeStatus.FAILED))
    order = addon_order(line, booster, at=T0 + timedelta(days=29, hours=23))
    gateway, token = card_token()
    payment = payment_start(order=order, token=token, gateway=gateway, now=T0 + timedelta(days=29, hours=23))
    payment = payment_complete(
        payment=payment,
        result=gateway.charge(charge_request(payment, token.token)),
        now=T0 + timedelta(days=30, hours=1),
    )
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID
    assert order.refunds.get().status == "failed"
    request.node.allow_broken_invariants = True  # what this test shows: the check finds it
    assert f"paid add-on order {order.pk} has no add-on buckets" in run_all()


@pytest.mark.parametrize("destination", ["original", "wallet"])
def test_a_full_refund_under_revoke_ends_the_passs_buckets(world, destination):
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=2)
    order = addon_order(line, booster, at=at)
    pay_by_card(order, at=at)
    period_end = line.period_end
    refunded_at = at + timedelta(days=1)

    refund = order_refund(order=order, amount=order.total, destination=destination, reason="changed my mind",
                          idempotency_key="r", now=refunded_at)  # fmt: skip

    assert refund.status == "succeeded" and refund.period_policy == "revoke"
    bucket = Bucket.objects.get(order_item__order=order)  # ended, not deleted
    assert bucket.expires_at == refunded_at and bucket.revoked_at == refunded_at
    assert line_allowances(line, refunded_at + timedelta(seconds=1))["data"].granted == 20480
    # the line and its period are left as they were
    line.refresh_from_db()
    period = Period.objects.get(line=line)
    assert line.period_end == period_end and period.revoked_at is None
    assert Bucket.objects.filter(source=Bucket.Source.PERIOD, revoked_at__isnull=True).count() == 3
    assert run_all() == []


def test_a_partial_refund_keeps_the_pass(world):
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=2)
    order = addon_order(line, booster, at=at)
    pay_by_card(order, at=at)
    order_refund(order=order, amount=Decimal("5.00"), destination="wallet", reason="goodwill", idempotency_key="r",
                 now=at + timedelta(days=1))  # fmt: skip
    bucket = Bucket.objects.get(order_item__order=order)
    assert bucket.revoked_at is None and bucket.expires_at == line.period_end


def test_a_prorata_pass_refunds_at_most_its_unused_share(world):
    from refill.orders.refunds import RefundRefused, prorata_cap

    market, base, booster, customer, line = world
    booster.refund_policy = "prorata"
    booster.save()
    at = T0 + timedelta(days=10)  # the pass runs 20 days, to the period's end
    order = addon_order(line, booster, at=at)
    pay_by_card(order, at=at)
    half_way = at + timedelta(days=10)
    assert prorata_cap(order, half_way) == Decimal("5.40")
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=Decimal("6.00"), destination="wallet", reason="x", idempotency_key="a",
                     now=half_way)  # fmt: skip
    order_refund(order=order, amount=Decimal("5.40"), destination="wallet", reason="x", idempotency_key="b",
                 now=half_way)  # fmt: skip
    bucket = Bucket.objects.get(order_item__order=order)
    assert bucket.expires_at == half_way and bucket.revoked_at == half_way


def test_refunding_the_renewal_ends_the_passes_on_its_period(world):
    """Rule 5: a pass expires with its period, also when a refund ends the period early."""
    market, base, booster, customer, line = world
    at = T0 + timedelta(days=2)
    pay_by_card(addon_order(line, booster, at=at), at=at)
    renewal = Order.objects.get(line=line, items__kind=OrderItem.Kind.RENEWAL)
    order_refund(order=renewal, amount=renewal.total, destination="original", reason="x", idempotency_key="r",
                 now=at + timedelta(days=1))  # fmt: skip
    assert Bucket.objects.get(source=Bucket.Source.ADDON).revoked_at == at + timedelta(days=1)


def test_the_confirmation_email_names_the_pass_and_the_number(world, mailoutbox):
    from refill.notifications.services import order_confirmation_send

    market, base, booster, customer, line = world
    at = T0 + timedelta(days=2)
    order = addon_order(line, booster, at=at)
    pay_by_card(order, at=at)
    order_confirmation_send(order_id=order.pk)
    message = mailoutbox[-1]
    assert message.subject == "5 GB Data Booster added to +1 202-555-0143"
    assert "5 GB Data Booster for +1 202-555-0143 is ready to use." in message.body
    assert "Valid until" in message.body and "renewed" not in message.body and "× 1" not in message.body
