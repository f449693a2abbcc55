"""What a refund leaves behind that customers and staff see (issue 23, item 3): the order shown as
refunded with its amount and date, a credit note in a gap-free series (PDF in the customer's
language, attached to the email and linked from the order), the email naming the receipt and a
translated reason, the line's plan and auto-renew plan what the line really has, and no hole in a
line's prepaid time."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from refill.orders.refunds import RefundRefused, order_refund
from refill.subscriptions.models import Bucket, Period
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
DEC6 = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)  # midnight in New York


def _credit_notes():
    from refill.orders.models import CreditNote  # new with credit notes

    return CreditNote.objects


def _run_tasks():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


@pytest.fixture
def us():
    return make_market()


def test_a_refunded_order_is_shown_refunded_with_its_amount_date_and_credit_note(client, us):
    plan = make_plan(us, "us-30day", price="30.00", name_en="30-Day Plan")
    customer, user = make_customer()
    order, _ = renew(make_line(customer, us, plan), plan)
    order_refund(
        order=order, amount=Decimal("30.00"), destination="original", reason_code="wrong_plan", idempotency_key="r1"
    )
    login(client, user)

    page = client.get("/orders/").content.decode()
    assert 'data-state="refunded"' in page
    assert 'data-state="paid"' not in page
    assert 'data-testid="order-refunded"' in page and "$30.00 refunded on" in page

    detail = client.get(f"/orders/{order.pk}/").content.decode()
    note = _credit_notes().get(refund__order=order)
    year = note.issued_at.astimezone(us.zone).year
    assert note.display_number == f"US-CR-{year}-000001"
    assert 'data-testid="refund-line"' in detail and note.display_number in detail
    pdf = client.get(f"/orders/{order.pk}/credit-notes/{note.pk}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert note.display_number in pdf["Content-Disposition"]


def test_a_partial_refund_is_shown_as_partly_refunded(client, us):
    plan = make_plan(us, "us-30day", price="30.00")
    customer, user = make_customer()
    order, _ = renew(make_line(customer, us, plan), plan)
    order_refund(
        order=order, amount=Decimal("10.00"), destination="wallet", reason_code="goodwill", idempotency_key="p1"
    )
    login(client, user)
    page = client.get("/orders/").content.decode()
    assert 'data-state="partly_refunded"' in page and "$10.00 refunded on" in page


def test_another_customers_credit_note_is_not_found(client, us):
    plan = make_plan(us, "us-30day", price="30.00")
    customer, _ = make_customer()
    order, _ = renew(make_line(customer, us, plan), plan)
    order_refund(
        order=order, amount=Decimal("30.00"), destination="original", reason_code="duplicate", idempotency_key="x"
    )
    note = _credit_notes().get()
    _, stranger = make_customer()
    login(client, stranger)
    assert client.get(f"/orders/{order.pk}/credit-notes/{note.pk}.pdf").status_code == 404


def test_credit_notes_are_numbered_gap_free_one_per_successful_refund(us):
    plan = make_plan(us, "us-30day", price="30.00")
    customer, _ = make_customer()
    order, _ = renew(make_line(customer, us, plan), plan)
    for key, amount in (("a", "5.00"), ("b", "7.00")):
        order_refund(
            order=order, amount=Decimal(amount), destination="wallet", reason_code="goodwill", idempotency_key=key
        )
    numbers = list(_credit_notes().order_by("issued_at", "pk").values_list("number", "amount"))
    assert numbers == [(1, Decimal("5.00")), (2, Decimal("7.00"))]
    from refill.invariants.checks import check_credit_notes

    assert check_credit_notes() == []


def test_the_refund_email_names_the_receipt_gives_a_translated_reason_and_staffs_note(us, mailoutbox):
    plan = make_plan(us, "us-30day", price="30.00", name_zh_hans="30天套餐")
    customer, _ = make_customer(language="zh-hans", tz="Asia/Shanghai")
    order, _ = renew(make_line(customer, us, plan), plan)
    order_refund(
        order=order,
        amount=Decimal("30.00"),
        destination="original",
        reason_code="wrong_plan",
        note="Sorry for the mix-up",
        idempotency_key="z",
    )
    _run_tasks()
    mail = next(m for m in mailoutbox if "退款" in m.subject)
    order.receipt.refresh_from_db()
    note = _credit_notes().get()
    assert order.receipt.display_number in mail.body
    assert f"订单 {order.pk}" not in mail.body
    assert "购买的套餐有误" in mail.body  # "The wrong plan was bought", in the customer's language
    assert "客服留言：Sorry for the mix-up" in mail.body  # staff's words, labelled as theirs
    assert "wrong_plan" not in mail.body and "The wrong plan" not in mail.body
    names = [name for name, _, _ in mail.attachments]
    assert f"credit-note-{note.display_number}.pdf" in names


def test_the_credit_note_pdf_is_in_the_customers_language(us):
    plan = make_plan(us, "us-30day", price="30.00")
    customer, _ = make_customer(language="zh-hans", tz="Asia/Shanghai")
    order, _ = renew(make_line(customer, us, plan), plan)
    order_refund(
        order=order, amount=Decimal("30.00"), destination="original", reason_code="duplicate", idempotency_key="c"
    )
    from django.template.loader import render_to_string
    from django.utils import translation

    from refill.orders.creditnotes import credit_note_context

    note = _credit_notes().get()
    with translation.override("zh-hans"):
        html = render_to_string("receipts/credit_note.html", credit_note_context(note))
    assert 'lang="zh-Hans"' in html and "退款凭证" in html and note.display_number in html
    from refill.orders.creditnotes import credit_note_pdf

    assert credit_note_pdf(note).startswith(b"%PDF")


def test_other_without_a_note_is_refused_and_an_unknown_reason_too(us):
    plan = make_plan(us, "us-30day", price="30.00")
    customer, _ = make_customer()
    order, _ = renew(make_line(customer, us, plan), plan)
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=Decimal("5.00"), destination="wallet", idempotency_key="o")
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=Decimal("5.00"), destination="wallet", reason_code="x", idempotency_key="u")
    assert not order.refunds.exists()


def test_refunding_the_wrong_plan_gives_the_line_back_its_plan_and_auto_renew_renews_that(client, us):
    thirty = make_plan(us, "us-30day", price="25.00", name_en="30-Day Plan")
    unlimited = make_plan(us, "us-unlimited", price="35.00", name_en="Monthly Unlimited")
    customer, user = make_customer()
    line = make_line(customer, us, thirty)
    renew(line, thirty, now=DEC6)
    wrong, _ = renew(line, unlimited, now=DEC6 + timedelta(days=1))
    assert line.plan == unlimited
    order_refund(
        order=wrong,
        amount=Decimal("35.00"),
        destination="original",
        reason="bought the wrong plan",  # staff's internal reason (the code defaults to "other")
        idempotency_key="w",
        now=DEC6 + timedelta(days=2),
    )
    line.refresh_from_db()
    assert line.plan == thirty and line.renewal_plan == thirty
    assert line.period_end == DEC6 + timedelta(days=30)
    login(client, user)
    page = client.get(f"/lines/{line.pk}/auto-renew/").content.decode()
    assert "30-Day Plan" in page and "Monthly Unlimited" not in page


def test_refunding_the_first_of_three_stacked_orders_moves_the_later_ones_up(us):
    ten = make_plan(us, "us-10day", price="10.00", validity_count=10)
    customer, _ = make_customer()
    line = make_line(customer, us, ten)
    first, _ = renew(line, ten, now=DEC6)
    renew(line, ten, now=DEC6 + timedelta(hours=1))
    renew(line, ten, now=DEC6 + timedelta(hours=2))
    line.refresh_from_db()
    assert line.period_end == DEC6 + timedelta(days=30)  # Dec 6 -> Jan 5
    refunded_at = DEC6 + timedelta(hours=3)
    order_refund(
        order=first,
        amount=Decimal("10.00"),
        destination="original",
        reason="duplicate",
        idempotency_key="f",
        now=refunded_at,
    )
    line.refresh_from_db()
    counting = list(Period.objects.filter(line=line, revoked_at__isnull=True).order_by("start"))
    # The two periods still paid for follow the refund at once, with no hole, ten days each.
    assert [(p.start, p.end) for p in counting] == [
        (refunded_at, refunded_at + timedelta(days=10)),
        (refunded_at + timedelta(days=10), refunded_at + timedelta(days=20)),
    ]
    assert line.period_end == refunded_at + timedelta(days=20)
    assert line.status == "active"
    with time_machine.travel(refunded_at + timedelta(days=1), tick=False):
        usable = Bucket.objects.filter(
            line=line,
            revoked_at__isnull=True,
            valid_from__lte=refunded_at + timedelta(days=1),
            expires_at__gt=refunded_at + timedelta(days=1),
        )
        assert usable.exists()  # the customer has an allowance the day after the refund


def test_a_calendar_month_period_moves_up_keeping_whole_months(us):
    month = make_plan(us, "us-month", price="30.00", validity_kind="months", validity_count=1)
    customer, _ = make_customer()
    line = make_line(customer, us, month)
    first, _ = renew(line, month, now=DEC6)
    renew(line, month, now=DEC6 + timedelta(hours=1))
    refunded_at = DEC6 + timedelta(days=2)  # Dec 8, midnight in New York
    order_refund(
        order=first,
        amount=Decimal("30.00"),
        destination="original",
        reason="duplicate",
        idempotency_key="m",
        now=refunded_at,
    )
    moved = Period.objects.get(line=line, revoked_at__isnull=True)
    assert moved.start == refunded_at
    assert moved.end == datetime(2027, 1, 8, 5, 0, tzinfo=UTC)  # a whole month from Dec 8
    line.refresh_from_db()
    assert line.period_end == moved.end and line.anchor_day == 8


def test_ledger_check_finds_a_hole_in_an_active_lines_periods(us, request):
    from refill.invariants.checks import check_period_gaps

    request.node.allow_broken_invariants = True
    ten = make_plan(us, "us-10day", price="10.00", validity_count=10)
    customer, _ = make_customer()
    line = make_line(customer, us, ten)
    renew(line, ten, now=DEC6)
    renew(line, ten, now=DEC6 + timedelta(hours=1))
    assert check_period_gaps() == []
    # given the running period is cut short (what a refund did before later periods moved up)
    Period.objects.filter(line=line, start=DEC6).update(revoked_at=DEC6 + timedelta(hours=3))
    problems = check_period_gaps()
    assert len(problems) == 1 and f"line {line.pk}" in problems[0] and "no period from" in problems[0]
