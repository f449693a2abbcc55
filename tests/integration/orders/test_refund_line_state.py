"""A refund that ends a line's paid time moves the line on at once (h13, after issue 23): the
lifecycle transition is applied in the refund's transaction, recorded with the refund as its
cause, and the refund email says the line's new end in the customer's language."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from refill.lines.models import LineStatusChange
from refill.orders.refunds import order_refund
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db(transaction=True)
NOON = datetime(2026, 12, 6, 17, 20, 5, tzinfo=UTC)


def _run_tasks():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


def test_refunding_the_only_paid_order_puts_the_line_in_grace_at_once(client, mailoutbox):
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00", name_zh_hans="30天套餐")
    customer, user = make_customer(language="zh-hans", tz="Asia/Shanghai")
    line = make_line(customer, us, plan)
    with time_machine.travel(NOON, tick=False):
        order, _ = renew(line, plan)
        line.refresh_from_db()
        assert line.status == "active"
        refund = order_refund(
            order=order, amount=Decimal("30.00"), destination="original", reason_code="wrong_plan", idempotency_key="r"
        )
        line.refresh_from_db()
        # no sweep has run: the refund itself moved the line on
        assert line.status == "grace"
        change = LineStatusChange.objects.get(line=line, to_status="grace")
        assert change.cause == "refunded" and change.reference == f"refund:{refund.pk}"
        login(client, user)
        page = visible_text(client.get("/").content.decode())
        assert "正常" not in page  # no longer shown as active
        assert "套餐即将到期" not in page and "0 天" not in page

        _run_tasks()
        mail = next(m for m in mailoutbox if "退款" in m.subject)
        grace_until = (line.period_end + timedelta(days=us.grace_days)).astimezone(ZoneInfo(customer.time_zone))
        assert f"{grace_until.month}月{grace_until.day}日" in mail.body  # a day and month (issue 26)
        assert "宽限期" in mail.body or "宽限" in mail.body
        # Chinese text: no space after 。 or ：
        assert "。 " not in mail.body and "： " not in mail.body

    # idempotent: the sweep afterwards changes nothing more
    from refill.lines.services import lines_lapse_sweep

    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        lines_lapse_sweep()
    assert LineStatusChange.objects.filter(line=line, to_status="grace").count() == 1


def test_a_refund_that_leaves_later_time_keeps_the_line_active_and_says_its_new_end(mailoutbox):
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00")
    customer, _ = make_customer()
    line = make_line(customer, us, plan)
    with time_machine.travel(NOON, tick=False):
        first, _ = renew(line, plan)
        renew(line, plan)
        order_refund(
            order=first, amount=Decimal("30.00"), destination="original", reason_code="wrong_plan", idempotency_key="r"
        )
        line.refresh_from_db()
        assert line.status == "active"
        assert not LineStatusChange.objects.filter(line=line, cause="refunded").exists()
        _run_tasks()
    mail = next(m for m in mailoutbox if "refund" in m.subject.lower())
    end = line.period_end.astimezone(ZoneInfo(customer.time_zone))
    assert "its plan now ends on" in mail.body
    assert f"its plan now ends on {end.day} {end:%b}." in mail.body  # "5 Jan" (issue 26)
