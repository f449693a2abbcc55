import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.vouchers.models import Voucher
from refill.vouchers.services import voucher_redeem
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db


FINANCE_PERMISSIONS = [
    "ledger.view_journalentry",
    "ledger.adjust_wallet",
    "vouchers.view_voucherbatch",
    "vouchers.add_voucherbatch",
    "vouchers.change_voucher",
    "orders.add_refund",
]


@pytest.fixture
def staff(client, django_user_model):
    user = make_staff(email="finance@example.com", permissions=FINANCE_PERMISSIONS)
    login(client, user)
    return user


@pytest.fixture
def sales():
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    renew(line, plan, now=timezone.now())
    return customer


def test_trial_balance_balances_and_exports(client, staff, sales):
    page = client.get(reverse("backoffice:trial_balance")).content.decode()
    assert "clearing:USD:house:sandbox" in page and "revenue:USD:house:base" in page
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("backoffice:trial_balance"), {"format": "csv"}).content.decode()))
    )
    total = next(row for row in rows if row[1] == "TOTAL")
    assert Decimal(total[3]) == Decimal(total[4]) == Decimal("25.00")


def test_statement_shows_wallet_and_orders(client, staff, sales):
    from refill.vouchers.services import voucher_batch_generate

    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    voucher_redeem(pin=pins[0][1], customer=sales)
    page = client.get(reverse("backoffice:statement", args=[sales.pk])).content.decode()
    assert "Refill PIN redeemed" in page and "$10.00" in page and "US-" in page
    title = page[page.index("<title>") : page.index("</title>")]
    assert "<form" not in title and page.count('name="idempotency_key"') == 1  # one adjust form, in the page
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(reverse("backoffice:statement", args=[sales.pk]), {"format": "csv"}).content.decode()
            )
        )
    )
    assert rows[0]["balance"].startswith("10.00")


def test_generate_downloads_pins_once_and_audits(client, staff):
    response = client.post(
        reverse("backoffice:vouchers_generate"),
        {"count": 3, "face_value": "10.00", "currency": "USD", "expires_in_days": 90, "note": "shop A"},
    )
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "no-store"
    pins = [row["pin"] for row in csv.DictReader(io.StringIO(response.content.decode()))]
    assert len(pins) == 3 and Voucher.objects.count() == 3
    listing = client.get(reverse("backoffice:vouchers")).content.decode()
    assert not any(pin in listing for pin in pins)
    assert AuditEvent.objects.filter(action="voucher_batch.generate", actor_label="finance@example.com").exists()


def test_import_page_reports_errors(client, staff):
    text = "serial,pin,face_value,currency\nA-1,1111222233334444,10.00,USD\nA-2,12,10.00,USD\n"
    response = client.post(reverse("backoffice:vouchers_import"), {"pasted": text})
    page = response.content.decode()
    assert "1 imported, 0 already here." in page and "Line 3" in page


def test_customers_cannot_reach_the_back_office(client):
    customer, user = make_customer()
    login(client, user)
    for name in ("backoffice:index", "backoffice:trial_balance", "backoffice:vouchers"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/admin/login/" in response.url
    assert client.post(reverse("backoffice:vouchers_generate"), {"count": 1}).status_code == 302
    assert not Voucher.objects.exists()


def test_refund_page(client, staff, sales, mailoutbox):
    from refill.orders.models import Order

    order = Order.objects.get(customer=sales)
    page = client.get(reverse("backoffice:refund", args=[order.pk]))
    key = page.context["form"].initial["idempotency_key"]
    too_much = client.post(
        reverse("backoffice:refund", args=[order.pk]),
        {"amount": "30.00", "destination": "original", "reason_code": "duplicate", "idempotency_key": key},
    )
    assert too_much.status_code == 400 and "at most" in too_much.content.decode()
    # "Other" needs staff's note; an unknown code is refused; nothing is refunded either time
    for refused in ({"reason_code": "other", "note": " "}, {"reason_code": "made-up"}):
        answer = client.post(
            reverse("backoffice:refund", args=[order.pk]),
            {"amount": "25.00", "destination": "original", "idempotency_key": key, **refused},
        )
        assert answer.status_code == 400 and not order.refunds.exists()
    done = client.post(
        reverse("backoffice:refund", args=[order.pk]),
        {
            "amount": "25.00",
            "destination": "original",
            "reason_code": "duplicate",
            "note": "Sorry about that",
            "idempotency_key": key,
        },
    )
    assert done.status_code == 302
    refund = order.refunds.get()
    assert (refund.status, refund.reason_code, refund.note) == ("succeeded", "duplicate", "Sorry about that")
    page = client.get(reverse("backoffice:refund", args=[order.pk])).content.decode()
    assert refund.credit_note.display_number in page
    assert AuditEvent.objects.filter(action="refund.succeeded", actor_label="finance@example.com").exists()


def test_wallet_adjustment(client, staff, sales):
    from refill.ledger.services import wallet_balance

    url = reverse("backoffice:statement", args=[sales.pk])
    key = client.get(url).context["adjust_form"].initial["idempotency_key"]
    data = {"currency": "USD", "amount": "5.00", "reason": "network outage goodwill", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same form twice credits once
    assert wallet_balance(sales, "USD") == Decimal("5.00")
    taken = client.post(url, {**data, "amount": "-6.00", "idempotency_key": "other"})
    assert taken.status_code == 400 and "does not hold that much" in taken.content.decode()
    assert AuditEvent.objects.filter(action="wallet.adjust").count() == 1


def test_staff_without_finance_permissions_are_refused(client, django_user_model, sales):
    clerk = make_staff(email="catalog@example.com")
    login(client, clerk)
    assert client.get(reverse("backoffice:trial_balance")).status_code == 403
    assert (
        client.post(
            reverse("backoffice:vouchers_generate"),
            {"count": 1, "face_value": "10", "currency": "USD", "expires_in_days": 90},
        ).status_code
        == 403
    )
    from refill.orders.models import Order

    order = Order.objects.get(customer=sales)
    assert client.get(reverse("backoffice:refund", args=[order.pk])).status_code == 403
    assert not Voucher.objects.exists() and not order.refunds.exists()


def test_void_a_batch_and_reverse_an_adjustment(client, staff, sales):
    from refill.ledger.models import JournalEntry
    from refill.ledger.services import wallet_adjust, wallet_balance
    from refill.vouchers.services import voucher_batch_generate

    batch, pins = voucher_batch_generate(count=3, face_value="10.00", currency="USD")
    voucher_redeem(pin=pins[0][1], customer=sales)
    response = client.post(
        reverse("backoffice:vouchers_void"), {"reference": batch.code, "reason": "stolen box"}, follow=True
    )
    assert "2 refill PINs voided." in response.content.decode()
    assert list(Voucher.objects.order_by("serial").values_list("state", flat=True)) == ["redeemed", "voided", "voided"]
    entry = wallet_adjust(customer=sales, currency="USD", amount=Decimal("3.00"), reason="oops", key="k1")
    client.post(reverse("backoffice:entry_correct", args=[entry.pk]), {"reason": "wrong customer"})
    assert JournalEntry.objects.filter(corrects=entry).count() == 1
    assert wallet_balance(sales, "USD") == Decimal("10.00")


def test_statement_csv_reconciles_with_orders(client, staff, sales):
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(reverse("backoffice:statement", args=[sales.pk]), {"format": "csv"}).content.decode()
            )
        )
    )
    orders = [row for row in rows if row["section"] == "order"]
    assert len(orders) == 1 and orders[0]["what"] == "paid" and "card 25.0000 succeeded" in orders[0]["reference"]
