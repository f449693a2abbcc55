from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from refill.ledger.models import Account
from refill.ledger.services import account_balance, account_for, wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.paying import order_pay_card
from refill.orders.refunds import RefundRefused, order_refund
from refill.orders.topups import order_create_topup
from refill.subscriptions.selectors import line_allowances, period_current
from tests.factories import card_token, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)  # midnight in New York, no DST change within 60 days


@pytest.fixture
def world():
    market = make_market()
    customer, _ = make_customer()
    return market, customer


def paid(world, policy="revoke", periods=1, now=T0):
    market, customer = world
    plan = make_plan(market, f"plan-{policy}-{periods}", price="30.00")
    plan.refund_policy = policy
    plan.save()
    line = make_line(customer, market, plan)
    order, _ = renew(line, plan, periods=periods, now=now)
    return order, line


def test_full_refund_to_card_revokes_the_service(world):
    order, line = paid(world)
    half_way = T0 + timedelta(days=15)
    refund = order_refund(
        order=order,
        amount=Decimal("30.00"),
        destination="original",
        reason="double purchase",
        idempotency_key="r1",
        now=half_way,
    )
    assert refund.status == "succeeded" and refund.card_amount == Decimal("30.00")
    line.refresh_from_db()
    assert line.period_end == half_way
    assert period_current(line, half_way + timedelta(seconds=1)) is None
    assert line_allowances(line, half_way + timedelta(seconds=1)) == {}
    assert account_balance(account_for(Account.Purpose.CLEARING, "USD", reference="sandbox")) == 0
    assert account_balance(account_for(Account.Purpose.REFUNDS, "USD")) == Decimal("30.00")


def test_partial_refund_keeps_the_service_under_revoke(world):
    order, line = paid(world)
    order_refund(
        order=order,
        amount=Decimal("10.00"),
        destination="wallet",
        reason="goodwill",
        idempotency_key="r",
        now=T0 + timedelta(days=1),
    )
    line.refresh_from_db()
    assert line.period_end == T0 + timedelta(days=30)
    assert wallet_balance(order.customer, "USD") == Decimal("10.00")


def test_refund_more_than_paid_or_twice_is_refused(world):
    order, line = paid(world)
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=Decimal("30.01"), destination="original", reason="x", idempotency_key="a")
    order_refund(order=order, amount=Decimal("20.00"), destination="original", reason="x", idempotency_key="b", now=T0)
    again = order_refund(order=order, amount=Decimal("20.00"), destination="original", reason="x", idempotency_key="b")
    assert again.order.refunds.count() == 1  # same key: the same refund, not a second one
    with pytest.raises(RefundRefused) as caught:
        order_refund(order=order, amount=Decimal("10.01"), destination="original", reason="x", idempotency_key="c")
    assert "10.00" in str(caught.value)
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=Decimal("5.00"), destination="original", reason="x", idempotency_key="b")


def test_keep_policy_leaves_the_service(world):
    order, line = paid(world, policy="keep")
    order_refund(
        order=order,
        amount=Decimal("30.00"),
        destination="original",
        reason="courtesy",
        idempotency_key="k",
        now=T0 + timedelta(days=3),
    )
    line.refresh_from_db()
    assert line.period_end == T0 + timedelta(days=30)


def test_prorata_caps_the_amount_and_ends_the_service(world):
    order, line = paid(world, policy="prorata", periods=2)  # 60 days for 60.00
    twenty_days_in = T0 + timedelta(days=20)
    with pytest.raises(RefundRefused) as caught:
        order_refund(
            order=order,
            amount=Decimal("41.00"),
            destination="original",
            reason="moving abroad",
            idempotency_key="p1",
            now=twenty_days_in,
        )
    assert "40.00" in str(caught.value)
    order_refund(
        order=order,
        amount=Decimal("40.00"),
        destination="original",
        reason="moving abroad",
        idempotency_key="p2",
        now=twenty_days_in,
    )
    line.refresh_from_db()
    assert line.period_end == twenty_days_in
    first, second = line.periods.order_by("start")
    # the running period stops now; the later one never starts
    assert (first.revoked_at, second.revoked_at) == (twenty_days_in, second.start)


def test_refund_of_wallet_and_card_payment_and_of_a_topup(world):
    market, customer = world
    plan = make_plan(market, "mix", price="25.00")
    line = make_line(customer, market, plan)
    topup = order_create_topup(customer=customer, market=market, amount=Decimal("10.00"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=topup, token=token, gateway=gateway)
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o")
    order_pay_card(order=order, token=token, gateway=gateway, wallet_amount=Decimal("10.00"))
    order.refresh_from_db()
    refund = order_refund(order=order, amount=Decimal("25.00"), destination="original", reason="x", idempotency_key="m")
    assert (refund.card_amount, refund.wallet_amount) == (Decimal("15.00"), Decimal("10.00"))
    assert wallet_balance(customer, "USD") == Decimal("10.00")
    topup.refresh_from_db()
    with pytest.raises(RefundRefused):
        order_refund(order=topup, amount=Decimal("10.00"), destination="wallet", reason="x", idempotency_key="tw")
    order_refund(order=topup, amount=Decimal("10.00"), destination="original", reason="closing", idempotency_key="tt")
    assert wallet_balance(customer, "USD") == 0  # a refunded top-up leaves the wallet, back to the card


def test_customer_is_emailed_about_the_refund_in_their_language(world, mailoutbox):
    from django.core.management import call_command

    market, customer = world
    customer.preferred_language = "zh-hans"
    customer.save()
    order, line = paid(world)
    order_refund(
        order=order,
        amount=Decimal("30.00"),
        destination="original",
        reason_code="duplicate",
        reason="double purchase (staff's internal words)",
        idempotency_key="z",
    )
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)
    refund_mail = [m for m in mailoutbox if "退款" in m.subject]
    assert len(refund_mail) == 1 and "US$30.00" in refund_mail[0].body
    assert "同一次续费被重复扣款" in refund_mail[0].body  # the reason from the list, in Chinese
    assert "double purchase" not in refund_mail[0].body  # staff's internal text stays internal


def test_a_topup_already_spent_cannot_be_refunded(world):
    market, customer = world
    plan = make_plan(market, "spend", price="7.50")
    line = make_line(customer, market, plan)
    topup = order_create_topup(customer=customer, market=market, amount=Decimal("10.00"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=topup, token=token, gateway=gateway)
    from refill.orders.paying import order_pay_wallet

    order_pay_wallet(
        order=order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o")
    )
    topup.refresh_from_db()
    with pytest.raises(RefundRefused) as caught:
        order_refund(order=topup, amount=Decimal("10.00"), destination="original", reason="x", idempotency_key="r")
    assert "no longer holds" in str(caught.value)
    assert not topup.refunds.exists() and wallet_balance(customer, "USD") == Decimal("2.50")
    order_refund(order=topup, amount=Decimal("2.50"), destination="original", reason="x", idempotency_key="r2")
    assert wallet_balance(customer, "USD") == 0


def test_a_small_prorata_refund_keeps_the_service_and_the_cap_holds(world):
    order, line = paid(world, policy="prorata")  # 30 days for 30.00
    halfway = T0 + timedelta(days=15)
    order_refund(
        order=order, amount=Decimal("1.00"), destination="wallet", reason="goodwill", idempotency_key="g", now=halfway
    )
    line.refresh_from_db()
    assert line.period_end == T0 + timedelta(days=30)  # still running
    with pytest.raises(RefundRefused) as caught:
        order_refund(
            order=order, amount=Decimal("29.00"), destination="original", reason="x", idempotency_key="h", now=halfway
        )
    assert "14.00" in str(caught.value)
    order_refund(
        order=order, amount=Decimal("14.00"), destination="original", reason="x", idempotency_key="i", now=halfway
    )
    line.refresh_from_db()
    assert line.period_end == halfway
    with pytest.raises(RefundRefused):  # nothing unused is left once the service ended
        order_refund(
            order=order,
            amount=Decimal("1.00"),
            destination="original",
            reason="x",
            idempotency_key="j",
            now=halfway + timedelta(days=1),
        )


def test_a_refund_whose_provider_call_fails_stays_pending_and_holds_nothing_new(world, monkeypatch):
    from refill.integrations.payments.sandbox import SandboxGateway

    order, line = paid(world)

    def boom(self, request):
        raise TimeoutError("provider timed out")

    monkeypatch.setattr(SandboxGateway, "refund", boom)
    refund = order_refund(order=order, amount=Decimal("30.00"), destination="original", reason="x", idempotency_key="b")
    assert refund.status == "pending"
    line.refresh_from_db()
    assert line.period_end == T0 + timedelta(days=30)
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=Decimal("1.00"), destination="original", reason="x", idempotency_key="c")
