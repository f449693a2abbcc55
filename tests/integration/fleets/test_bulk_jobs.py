"""Bulk jobs over a business's lines: checked, paid once, applied; lines that fail are never
charged for, and the result file, the ledger and the periods agree."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.fleets import errors, numbers, services
from refill.fleets.apply import bulk_job_apply
from refill.fleets.models import BulkJob, BulkJobLine
from refill.fleets.services import bulk_job_check, bulk_job_create, bulk_job_pay
from refill.integrations.payments.base import CardDetails
from refill.ledger.models import JournalEntry
from refill.ledger.services import wallet_adjust, wallet_balance
from refill.lines.models import Line
from refill.notifications.models import Notification
from refill.orders.models import Order, Refund
from refill.orders.paying import PayWith
from refill.payments.models import Payment
from refill.renewals.autorenew import autorenew_settings
from refill.subscriptions.models import Period
from tests.factories import login, make_customer

from .conftest import Fleet

pytestmark = pytest.mark.django_db

DECLINE_CARD = "4000000000000002"


def card(number: str = "4242424242424242") -> CardDetails:
    return CardDetails(number=number, exp_month=12, exp_year=timezone.now().year + 3, cvc="123")


def make_job(fleet: Fleet, numbers: list[str], *, action: str = "renew", plan=None, periods: int = 1, key="k1"):
    return bulk_job_create(
        customer=fleet.customer,
        user=fleet.admin,
        action=action,
        numbers=numbers,
        plan=plan,
        periods=periods,
        idempotency_key=key,
    )


def result_rows(client, job) -> list[dict]:
    response = client.get(f"/fleet/jobs/{job.pk}/result.csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_check_prices_each_line_and_explains_every_failure(fleet):
    lines = fleet.lines
    Line.objects.filter(pk=lines[1].pk).update(status="aging")  # cannot be renewed any more
    stranger = "+12026009999"  # a valid number, not the business's
    numbers = [lines[0].msisdn, lines[1].msisdn, "2026000002", stranger, "hello", lines[0].msisdn]
    job = make_job(fleet, numbers)
    assert job.status == BulkJob.Status.CHECKING
    assert not Order.objects.exists()  # nothing before the background step

    job = bulk_job_check(job_id=job.pk)

    assert job.status == BulkJob.Status.AWAITING_PAYMENT
    rows = {row.position: row for row in job.lines.all()}
    assert rows[1].status == "ready" and rows[1].amount == Decimal("10.8000")  # 10.00 + 8 % tax
    assert rows[2].status == "failed" and "can no longer be renewed" in rows[2].reason
    assert rows[3].status == "ready" and rows[3].line_id == lines[2].pk  # national format found
    assert rows[4].status == "failed" and "not one of your lines" in rows[4].reason
    assert rows[5].status == "failed" and "not a valid phone number" in rows[5].reason
    assert rows[6].status == "failed" and "listed twice" in rows[6].reason
    assert job.total == Decimal("21.6000") and job.currency == "USD"
    assert Order.objects.filter(bulk_job=job, status="awaiting_payment").count() == 2
    assert not Payment.objects.exists() and not JournalEntry.objects.exists()


def test_pay_by_card_once_then_renew_and_refund_lines_that_fail_meanwhile(fleet, client):
    lines = fleet.lines[:6]
    job = bulk_job_check(job_id=make_job(fleet, [line.msisdn for line in lines]).pk)
    assert job.total == Decimal("64.8000")
    # Between the check and the payment one line is terminated: it leaves the batch before the charge.
    Line.objects.filter(pk=lines[5].pk).update(status="aging")
    ends = {line.pk: line.period_end for line in lines}

    payment = bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith(card=card()))

    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == Decimal("54.0000")
    dropped = job.lines.get(line=lines[5])
    assert dropped.status == "failed" and dropped.amount is None and "can no longer be renewed" in dropped.reason
    # Between the payment and the renewals another one is: it is refunded to the card.
    Line.objects.filter(pk=lines[3].pk).update(status="aging")
    # The one card charge; the apply step (enqueued by its fulfilment) runs here by hand.
    job = bulk_job_apply(job_id=job.pk)
    assert job.status == BulkJob.Status.DONE
    assert job.invoice_number.startswith("INV-US-")
    card_payments = Payment.objects.filter(method="card")
    assert card_payments.count() == 1
    done = job.lines.filter(status="done")
    assert done.count() == 4
    for row in done:
        period = Period.objects.get(order_item__order=row.order)
        assert period.start == ends[row.line_id] and row.period_end == period.end
    failed = job.lines.get(status="failed", line=lines[3])
    assert Order.objects.get(pk=failed.order_id).status == "cancelled"
    assert not Period.objects.filter(line_id__in=[lines[3].pk, lines[5].pk]).exists()
    refund = Refund.objects.get(order=job.funding)
    assert refund.amount == Decimal("10.8000") and refund.status == "succeeded" and refund.card_amount == refund.amount
    # The wallet paid exactly the renewed lines: nothing of the batch is left in it.
    assert wallet_balance(fleet.customer, "USD") == 0
    # One email for the job, none per order.
    assert Notification.objects.filter(rule="fleet_job_done", subject_key=f"bulk_job:{job.pk}").count() == 1
    assert not Notification.objects.filter(rule="order_confirmation").exists()
    # Applying again changes nothing.
    bulk_job_apply(job_id=job.pk)
    assert Period.objects.count() == 4 and Refund.objects.count() == 1

    login(client, fleet.viewer)
    rows = result_rows(client, job)
    assert [r["status"] for r in rows] == ["done", "done", "done", "failed", "done", "failed"]
    assert rows[3]["reason"] and rows[0]["valid_until"]
    invoice = client.get(f"/fleet/jobs/{job.pk}/invoice/")
    assert invoice.status_code == 200
    assert invoice.content.decode().count('data-testid="invoice-line"') == 4
    assert "$43.20" in invoice.content.decode()


def test_declined_card_charges_nothing_and_the_job_can_be_paid_again(fleet):
    job = bulk_job_check(job_id=make_job(fleet, [line.msisdn for line in fleet.lines[:3]]).pk)
    payment = bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith(card=card(DECLINE_CARD)))
    assert payment.status == Payment.Status.FAILED
    job = bulk_job_apply(job_id=job.pk)
    assert job.status == BulkJob.Status.AWAITING_PAYMENT
    assert not Period.objects.exists() and wallet_balance(fleet.customer, "USD") == 0
    payment = bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith(card=card()))
    assert payment.status == Payment.Status.SUCCEEDED
    job = bulk_job_apply(job_id=job.pk)
    assert job.status == BulkJob.Status.DONE and Period.objects.count() == 3


def test_wallet_pays_the_batch_when_it_covers_it(fleet):
    job = bulk_job_check(job_id=make_job(fleet, [line.msisdn for line in fleet.lines[:3]]).pk)
    with pytest.raises(services.WalletTooLow):
        bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith())
    wallet_adjust(customer=fleet.customer, currency="USD", amount=Decimal("40.00"), reason="prepaid", key="w1")
    assert bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith()) is None
    job = bulk_job_apply(job_id=job.pk)
    assert job.status == BulkJob.Status.DONE and job.funding is None
    assert wallet_balance(fleet.customer, "USD") == Decimal("40.00") - Decimal("32.40")
    assert not Payment.objects.filter(method="card").exists()


def test_only_an_admin_may_create_or_pay(fleet):
    with pytest.raises(errors.NotFleetAdmin):
        bulk_job_create(
            customer=fleet.customer,
            user=fleet.viewer,
            action="renew",
            numbers=[fleet.lines[0].msisdn],
            idempotency_key="v1",
        )
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[0].msisdn]).pk)
    with pytest.raises(errors.NotFleetAdmin):
        bulk_job_pay(job=job, user=fleet.viewer, pay_with=PayWith(card=card()))
    assert not Payment.objects.exists()


def test_same_key_same_job_and_other_request_refused(fleet):
    first = make_job(fleet, [fleet.lines[0].msisdn])
    assert make_job(fleet, [fleet.lines[0].msisdn]).pk == first.pk
    with pytest.raises(services.IdempotencyConflict):
        make_job(fleet, [fleet.lines[0].msisdn, fleet.lines[1].msisdn])
    assert BulkJob.objects.count() == 1


def test_prepaid_limit_and_stale_prices(fleet):
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[0].msisdn], periods=4).pk)
    assert job.status == BulkJob.Status.FAILED  # the plan allows 3 periods ahead
    assert "at most 3" in job.lines.get().reason
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[1].msisdn], key="k2").pk)
    BulkJob.objects.filter(pk=job.pk).update(checked_at=timezone.now() - timedelta(hours=21))
    job.refresh_from_db()
    with pytest.raises(errors.JobPricesExpired):
        bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith(card=card()))
    old_order = job.lines.get().order_id
    services.bulk_job_recheck(job=job, user=fleet.admin)
    job = bulk_job_check(job_id=job.pk)
    assert job.status == BulkJob.Status.AWAITING_PAYMENT and job.round == 2
    assert job.lines.get().order_id != old_order
    assert Order.objects.get(pk=old_order).status == "cancelled"


def test_cancel_charges_nothing(fleet):
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[0].msisdn]).pk)
    services.bulk_job_cancel(job=job, user=fleet.admin)
    job.refresh_from_db()
    assert job.status == BulkJob.Status.CANCELLED
    assert Order.objects.get(bulk_job=job).status == "cancelled"
    with pytest.raises(errors.JobNotPayable):
        bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith(card=card()))


def test_change_plan_waits_for_the_next_renewal(fleet):
    a, b = fleet.lines[:2]
    job = bulk_job_check(job_id=make_job(fleet, [a.msisdn, b.msisdn], action="change_plan", plan=fleet.other_plan).pk)
    assert job.status == BulkJob.Status.DONE
    a.refresh_from_db()
    assert a.plan_id == fleet.plan.pk and a.next_plan_id == fleet.other_plan.pk
    assert AuditEvent.objects.filter(action="line.plan_change", object_id=str(a.pk)).exists()
    # The next renewal (here a bulk one with each line's own plan) uses it, and the wait ends.
    job = bulk_job_check(job_id=make_job(fleet, [a.msisdn], key="k2").pk)
    assert job.total == Decimal("16.2000")  # 15.00 + 8 %
    wallet_adjust(customer=fleet.customer, currency="USD", amount=Decimal("20.00"), reason="prepaid", key="w1")
    bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith())
    bulk_job_apply(job_id=job.pk)
    a.refresh_from_db()
    assert a.plan_id == fleet.other_plan.pk and a.next_plan_id is None


def test_auto_renew_on_and_off(fleet):
    a, b = fleet.lines[:2]
    Line.objects.filter(pk=b.pk).update(status="aging")
    job = bulk_job_check(job_id=make_job(fleet, [a.msisdn, b.msisdn], action="auto_renew_on").pk)
    assert [row.status for row in job.lines.order_by("position")] == ["done", "failed"]
    assert autorenew_settings(a).enabled
    job = bulk_job_check(job_id=make_job(fleet, [a.msisdn], action="auto_renew_off", key="k2").pk)
    assert job.status == BulkJob.Status.DONE and not autorenew_settings(a).enabled


def test_csv_numbers():
    data = b"Number,Site\n+1 202 600 0001,Depot\n\n2026000002,Truck\n"
    assert numbers.numbers_from_csv(data) == ["+1 202 600 0001", "2026000002"]
    assert numbers.numbers_from_csv(b"+12026000001\n+12026000002\n") == ["+12026000001", "+12026000002"]
    with pytest.raises(errors.FleetRefused):
        numbers.numbers_from_csv(b"\xff\xfe\x00")


def test_pages_need_a_fleet_member_and_admins_for_writes(fleet, client):

    outsider = make_customer()[1]
    login(client, outsider)
    assert client.get("/fleet/").status_code == 404
    login(client, fleet.viewer)
    for url in ("/fleet/", "/fleet/lines/", "/fleet/groups/", "/fleet/jobs/", "/fleet/members/"):
        assert client.get(url).status_code == 200, url
    response = client.post("/fleet/jobs/", {"action": "renew", "periods": 1, "numbers": "x", "idempotency_key": "a"})
    assert response.status_code == 403
    assert client.post("/fleet/groups/", {"name": "Depot"}).status_code == 403
    login(client, fleet.admin)
    response = client.post(
        "/fleet/jobs/",
        {"action": "renew", "periods": 1, "line": [str(fleet.lines[0].pk)], "numbers": "", "idempotency_key": "a"},
    )
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/fleet/jobs/{job.pk}/"
    assert client.post("/fleet/groups/", {"name": "Depot"}).status_code == 302
    group = fleet.customer.line_groups.get()
    client.post("/fleet/lines/group/", {"group": str(group.pk), "line": [str(fleet.lines[0].pk)]})
    assert fleet.lines[0].fleet_group.group == group
    # Another business's job is not found, nor its result or invoice.
    other_customer, other_user = make_customer("other@biz.example")
    other = BulkJob.objects.create(customer=other_customer, created_by=other_user, idempotency_key="o", action="renew")
    for url in (f"/fleet/jobs/{other.pk}/", f"/fleet/jobs/{other.pk}/result.csv", f"/fleet/jobs/{other.pk}/invoice/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/fleet/jobs/{other.pk}/cancel/").status_code == 404


def test_dashboard_shows_expiring_usage_and_spend(fleet, client):
    wallet_adjust(customer=fleet.customer, currency="USD", amount=Decimal("20.00"), reason="prepaid", key="w1")
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[0].msisdn]).pk)
    bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith())
    bulk_job_apply(job_id=job.pk)
    login(client, fleet.viewer)
    page = client.get("/fleet/").content.decode()
    assert 'data-testid="expiring-7">11<' in page  # the 11 lines not renewed end in 5 days
    assert "$10.80" in page  # this month's spend
    assert 'data-testid="usage-group"' in page


def test_one_thousand_lines_with_injected_failures(db, client):
    """The issue's proof: 1,000 lines (run on PostgreSQL in CI, and on SQLite), a few failures
    injected before and after the payment; the result file, the ledger and the periods agree."""
    fleet = Fleet(1000)
    numbers = [line.msisdn for line in fleet.lines]
    numbers[10] = "+12026009999"  # not the business's
    numbers[20] = "not a number"
    numbers.append(fleet.lines[0].msisdn)  # listed twice
    Line.objects.filter(pk=fleet.lines[30].pk).update(status="aging")  # fails the check
    job = bulk_job_check(job_id=make_job(fleet, numbers).pk)
    assert job.status == BulkJob.Status.AWAITING_PAYMENT
    ready = job.lines.filter(status="ready").count()
    assert ready == 997
    # After the check, before the payment: two lines go wrong (they leave the batch uncharged).
    Line.objects.filter(pk__in=[fleet.lines[i].pk for i in (200, 700)]).update(status="aging")
    payment = bulk_job_pay(job=job, user=fleet.admin, pay_with=PayWith(card=card()))
    assert payment.amount == Decimal("10.8000") * 995
    # After the payment, before the renewals: three more (they are refunded).
    Line.objects.filter(pk__in=[fleet.lines[i].pk for i in (100, 500, 900)]).update(status="aging")
    job = bulk_job_apply(job_id=job.pk)
    assert job.status == BulkJob.Status.DONE

    login(client, fleet.admin)
    rows = result_rows(client, job)
    assert len(rows) == 1001
    done = {row["number"] for row in rows if row["status"] == "done"}
    failed = [row for row in rows if row["status"] == "failed"]
    assert len(done) == 992 and len(failed) == 9 and all(row["reason"] for row in failed)
    # Periods: exactly one new period for each line the file says was renewed, none for the rest.
    renewed = set(Period.objects.filter(order_item__order__bulk_job=job).values_list("line__msisdn", flat=True))
    assert renewed == done
    assert Period.objects.filter(order_item__order__bulk_job=job).count() == 992
    # Ledger: one card charge of the whole batch; the orders the file lists as renewed are paid and
    # captured; the lines not renewed went back to the card.
    assert Payment.objects.filter(method="card", status="succeeded").count() == 1
    paid = Order.objects.filter(bulk_job=job, line__isnull=False, status="paid")
    assert set(paid.values_list("line__msisdn", flat=True)) == done
    captures = JournalEntry.objects.filter(
        cause="order", idempotency_key__in=[f"order:{pk}:capture" for pk in paid.values_list("pk", flat=True)]
    )
    assert captures.count() == 992
    assert sum(Decimal(row["amount"]) for row in rows if row["status"] == "done") == Decimal("10.8000") * 992
    refund = Refund.objects.get(order=job.funding)
    assert refund.amount == Decimal("10.8000") * 3 and refund.status == "succeeded"
    assert wallet_balance(fleet.customer, "USD") == 0
    # The lines dropped before the charge carry no amount; those refunded keep theirs.
    assert BulkJobLine.objects.filter(job=job, status="failed", amount__isnull=False).count() == 3


def test_pay_page_by_card_and_decline_message(fleet, client):
    login(client, fleet.admin)
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[0].msisdn]).pk)
    page = client.get(f"/fleet/jobs/{job.pk}/")
    assert b'data-testid="job-pay"' in page.content
    fields = {"card_expiry": "12/40", "card_cvc": "123", "card_holder": "Acme"}
    response = client.post(f"/fleet/jobs/{job.pk}/pay/", {"pay_with": "card", "card_number": DECLINE_CARD} | fields)
    assert response.status_code == 402 and b'data-testid="error"' in response.content
    assert client.post(f"/fleet/jobs/{job.pk}/pay/", {}).status_code == 400  # nothing chosen
    response = client.post(
        f"/fleet/jobs/{job.pk}/pay/", {"pay_with": "card", "card_number": "4242 4242 4242 4242"} | fields
    )
    assert response.status_code == 302
    job = bulk_job_apply(job_id=job.pk)
    assert job.status == BulkJob.Status.DONE
    assert b"Invoice" in client.get(f"/fleet/jobs/{job.pk}/").content
