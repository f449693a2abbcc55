"""Issue 23, items 1, 2 and 17: a new number from the demo as `make run` seeds it; the page says
before the customer chooses when no eSIM can be given; a refused choice keeps the customer's
choices; the back office warns at the operator's low-stock threshold; a first purchase is an
activation (its own page, confirmation and email, no "keep my number" plan); a paid new line with
no eSIM in stock waits (customer and staff told), gets its eSIM when profiles arrive, and may be
refunded after the operator's time."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refill.catalog.models import Plan
from refill.esim import services
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder, Profile
from refill.lines.models import Line, PoolNumber
from refill.notifications.models import Notification
from refill.orders.models import Refund
from tests.factories import esim_batch_iccid, login, make_customer, make_line, make_market, make_plan, make_staff, renew
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)


# Imported when used, so that each test fails for its own reason on the code before issue 23.
def NewLineWait():  # noqa: N802
    from refill.esim.models import NewLineWait

    return NewLineWait


def esim_waiting_lines_deliver():
    from refill.esim.newlines import esim_waiting_lines_deliver

    return esim_waiting_lines_deliver()


NUMBERS = ["+12025550191", "+12025550192"]


def iccid(n: int) -> str:
    return esim_batch_iccid(9, n)


def stock_csv(*numbers: int) -> bytes:
    rows = "".join(f"{iccid(n)},{234150000009000 + n},consumer\n" for n in numbers)
    return f"iccid,imsi,profile_type\n{rows}".encode()


def run_tasks():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        yield simulator


@pytest.fixture
def shop(db):
    market = make_market()
    day = make_plan(market, "us-daily", price="1.50", name_en="Day Pass", validity_count=1)
    week = make_plan(market, "us-week", price="7.00", name_en="7-Day Plan", validity_count=7)
    keep = make_plan(market, "us-keep", price="2.00", name_en="Keep My Number", kind="retention", data_mb=0)
    Plan.objects.filter(pk=week.pk).update(retention_plan=keep)
    for msisdn in NUMBERS:
        PoolNumber.objects.create(msisdn=msisdn, market=market, status="available", available_since=timezone.now())
    customer, user = make_customer()
    return market, day, week, customer, user


# Item 1 and 17: the demo as `make run` seeds it.


def test_the_demo_sells_new_numbers_and_no_delivery_task_fails(sim, settings, tmp_path, client):
    from refill.customers.models import User
    from refill.demo.seed import demo_seed

    settings.VAR_DIR = tmp_path
    assert demo_seed()
    run_tasks()  # what the demo's worker does first
    failed = list(DBTaskResult.objects.failed().values_list("task_path", "exception_class_path"))
    assert failed == []
    assert not NewLineWait().objects.exists()
    # every demo eSIM line kept its own profile; the stock is left for new numbers
    for line in Line.objects.filter(sim_type="esim"):
        assert Profile.objects.get(line=line).iccid == line.iccid
    from refill.esim.stock import profiles_left

    assert profiles_left("consumer") >= 20

    login(client, User.objects.get(email="demo@example.com"))
    page = client.get("/lines/new/").content.decode()
    assert 'data-testid="esim-out-of-stock"' not in page and 'data-testid="line-new-continue"' in page
    response = client.post("/lines/new/", {"market": "us", "plan": "us-30day", "msisdn": "+12025550163"})
    assert response.status_code == 302
    line = Line.objects.get(msisdn="+12025550163")
    order, _ = renew(line, Plan.objects.get(code="us-30day"))
    run_tasks()
    assert EsimOrder.objects.get(line=line).status == "released"
    assert not DBTaskResult.objects.failed().exists()


# Item 1: said before choosing; choices kept; low stock warned.


def test_the_page_says_before_choosing_that_no_esim_can_be_given(shop, client):
    market, day, week, customer, user = shop
    login(client, user)
    inventory_import(file_name="one.csv", content=stock_csv(1))
    page = client.get("/lines/new/").content.decode()
    assert 'data-testid="esim-out-of-stock"' not in page and 'data-testid="new-plan-us-week"' in page
    Profile.objects.update(smdp_state="unavailable")  # the last one went to another customer
    page = client.get("/lines/new/").content.decode()
    assert 'data-testid="esim-out-of-stock"' in page and 'data-testid="esim-out-of-stock-contact"' in page
    assert 'data-testid="line-new-continue"' not in page  # nothing to choose that cannot be delivered
    # a submit that is refused anyway says the same, and holds nothing
    response = client.post("/lines/new/", {"market": "us", "plan": "us-week", "msisdn": NUMBERS[1]})
    assert response.status_code == 400 and 'data-testid="esim-out-of-stock"' in response.content.decode()
    assert not Line.objects.exists()


def test_a_refused_choice_keeps_the_plan_chosen(shop, client):
    market, day, week, customer, user = shop
    login(client, user)
    inventory_import(file_name="one.csv", content=stock_csv(2))
    PoolNumber.objects.filter(msisdn=NUMBERS[1]).update(status="assigned")  # taken meanwhile
    response = client.post("/lines/new/", {"market": "us", "plan": "us-week", "msisdn": NUMBERS[1]})
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="line-new-error"' in page
    assert 'data-testid="new-plan-us-week" checked' in page
    assert 'data-testid="new-plan-us-daily" checked' not in page


def test_the_back_office_warns_at_the_operators_threshold(client, django_user_model, settings):
    settings.REFILL_ESIM_LOW_STOCK = 10
    inventory_import(file_name="three.csv", content=stock_csv(3, 4, 5))
    staff = django_user_model.objects.create_superuser("ops@example.com", "ops-pass-12345", role="staff")
    login(client, staff)
    page = client.get("/backoffice/esim/inventory/").content.decode()
    assert 'data-testid="low-stock-consumer"' in page and 'data-testid="left-consumer">3<' in page
    # the operator lowers the threshold for this type: no warning while 3 are left
    response = client.post("/backoffice/esim/inventory/", {"profile_type": "consumer", "low_at": "2"})
    from refill.esim.models import StockAlert

    assert response.status_code == 302 and StockAlert.objects.get(profile_type="consumer").low_at == 2
    assert 'data-testid="low-stock-consumer"' not in client.get("/backoffice/esim/inventory/").content.decode()
    # bad input: a clear error, nothing changed
    response = client.post("/backoffice/esim/inventory/", {"profile_type": "consumer", "low_at": "-1"})
    assert response.status_code == 400 and 'data-testid="threshold-error"' in response.content.decode()
    assert StockAlert.objects.get(profile_type="consumer").low_at == 2
    Profile.objects.update(smdp_state="unavailable")
    page = client.get("/backoffice/esim/inventory/").content.decode()
    assert 'data-testid="low-stock-consumer"' in page and 'data-testid="left-consumer">0<' in page


# Item 2: a first purchase is an activation.


def test_a_new_number_is_activated_not_renewed(sim, shop, client):
    market, day, week, customer, user = shop
    login(client, user)
    inventory_import(file_name="one.csv", content=stock_csv(6))
    client.post("/lines/new/", {"market": "us", "plan": "us-week", "msisdn": NUMBERS[0]})
    line = Line.objects.get(owner=customer)
    page = client.get(f"/lines/{line.pk}/renew/?plan=us-week").content.decode()
    assert 'data-testid="activation-heading"' in page and "Pending" not in page
    assert 'data-testid="plan-us-week"' in page and 'data-testid="plan-us-keep"' not in page
    # nor when asked for by hand: the checkout takes a base plan, never "keep my number"
    assert 'data-testid="plan-us-keep"' not in client.get(f"/lines/{line.pk}/renew/?plan=us-keep").content.decode()
    assert "Keep My Number" not in client.get(f"/lines/{line.pk}/renew/quote/?plan=us-keep").content.decode()

    mail.outbox.clear()
    order, _ = renew(line, week)
    confirmation = client.get(f"/orders/{order.pk}/confirmation/").content.decode()
    assert 'data-testid="activation-confirmed"' in confirmation and "Renewal confirmed" not in confirmation
    assert f'class="button wide" href="/lines/{line.pk}/esim/" data-testid="install-esim"' in confirmation
    run_tasks()
    subjects = [message.subject for message in mail.outbox]
    assert f"Welcome, your number is {line.msisdn_display}" in subjects
    assert not [s for s in subjects if s.startswith("Renewal confirmed")]

    # its next purchase is a renewal again
    mail.outbox.clear()
    again, _ = renew(line, week)
    assert 'data-testid="activation-confirmed"' not in client.get(f"/orders/{again.pk}/confirmation/").content.decode()
    run_tasks()
    assert [m.subject for m in mail.outbox if m.subject.startswith("Renewal confirmed")]


# Item 17: paid, and no eSIM in stock.


def paid_line_without_stock(shop, language="en"):
    market, day, week, _, _ = shop
    customer, user = make_customer(language=language, tz="Asia/Shanghai" if language == "zh-hans" else "UTC")
    line = make_line(customer, market, week, msisdn="+12025550199")
    order, _ = renew(line, week)
    return customer, user, line, order


def test_a_paid_line_without_stock_waits_and_is_told_then_delivered_when_stock_arrives(sim, shop, client, settings):
    customer, user, line, order = paid_line_without_stock(shop, "zh-hans")
    mail.outbox.clear()
    run_tasks()
    assert not DBTaskResult.objects.failed().exists()  # no task fails with a message for a customer
    wait = NewLineWait().objects.get(line=line)
    assert (wait.status, wait.reason) == ("waiting", "esim_out_of_stock")
    told = [m for m in mail.outbox if m.to == [customer.email_address()] and "eSIM" in m.subject]
    assert len(told) == 1 and told[0].extra_headers["Content-Language"] == "zh-hans"
    assert "on its way" not in told[0].subject  # in their language
    services.esim_deliver_new_lines([line.pk])  # asked again: still one wait, one notice
    run_tasks()
    assert NewLineWait().objects.count() == 1
    assert Notification.objects.filter(rule="esim_waiting", customer=customer, status="sent").count() == 1

    login(client, user)
    assert 'data-testid="esim-waiting-card"' in client.get("/lines/").content.decode()  # on the line card
    assert 'data-testid="esim-waiting"' in client.get(f"/lines/{line.pk}/esim/").content.decode()
    confirmation = client.get(f"/orders/{order.pk}/confirmation/").content.decode()
    assert 'data-testid="esim-waiting"' in confirmation and 'data-testid="install-esim"' not in confirmation
    staff = type(user).objects.create_superuser("ops@example.com", "ops-pass-12345", role="staff")
    client.logout()
    login(client, staff)
    page = client.get("/backoffice/esim/inventory/").content.decode()
    assert f'data-testid="waiting-{line.pk}"' in page and 'data-testid="waiting-alert"' in page
    assert 'data-testid="low-stock-consumer"' in page
    first = client.get("/backoffice/").content.decode()  # and on the back office's first page
    assert 'data-testid="esim-alert-waiting"' in first and 'data-testid="esim-alert-low-consumer"' in first

    # stock arrives: the import delivers it, by itself
    mail.outbox.clear()
    response = client.post(
        "/backoffice/esim/inventory/", {"file": SimpleUploadedFile("new.csv", stock_csv(7, 8)), "vendor": "Acme"}
    )
    assert response.status_code == 200
    run_tasks()
    wait.refresh_from_db()
    assert wait.status == "delivered" and EsimOrder.objects.get(line=line).status == "released"
    line.refresh_from_db()
    assert line.iccid == Profile.objects.get(line=line).iccid
    assert [m for m in mail.outbox if str(EsimOrder.objects.get(line=line).activation_code) in m.body]
    assert esim_waiting_lines_deliver() == 0  # nothing left to do, nothing done twice
    assert EsimOrder.objects.filter(line=line).count() == 1


def test_two_sweeps_at_once_deliver_once(sim, shop):
    customer, user, line, order = paid_line_without_stock(shop)
    run_tasks()
    wait = NewLineWait().objects.get(line=line)
    inventory_import(file_name="two.csv", content=stock_csv(9, 10))
    # another scheduler's sweep holds the line: this one leaves it alone
    NewLineWait().objects.filter(pk=wait.pk).update(lease_until=timezone.now() + timedelta(minutes=1))
    assert esim_waiting_lines_deliver() == 0 and not EsimOrder.objects.filter(line=line).exists()
    # its lease ran out (it died): taken over, delivered once
    NewLineWait().objects.filter(pk=wait.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert esim_waiting_lines_deliver() == 1
    assert esim_waiting_lines_deliver() == 0
    assert EsimOrder.objects.filter(line=line).count() == 1 and Profile.objects.filter(line=line).count() == 1


def test_after_the_operators_time_the_customer_may_take_a_refund(sim, shop, client, settings):
    settings.REFILL_ESIM_REFUND_AFTER_HOURS = 48
    customer, user, line, order = paid_line_without_stock(shop)
    run_tasks()
    wait = NewLineWait().objects.get(line=line)
    login(client, user)
    page = client.get(f"/lines/{line.pk}/esim/").content.decode()
    assert 'data-testid="esim-refund-from"' in page and 'data-testid="esim-refund"' not in page
    client.post(f"/lines/{line.pk}/esim/refund/")  # too early: refused, nothing refunded
    assert not Refund.objects.exists()

    later = wait.since + timedelta(hours=48, minutes=1)
    with time_machine.travel(later, tick=False):
        mail.outbox.clear()
        esim_waiting_lines_deliver()
        esim_waiting_lines_deliver()
        run_tasks()
        offers = [m for m in mail.outbox if "refund" in m.subject.lower()]
        assert len(offers) == 1
        login(client, user)  # two days later
        assert 'data-testid="esim-refund"' in client.get(f"/lines/{line.pk}/esim/").content.decode()
        response = client.post(f"/lines/{line.pk}/esim/refund/")
        assert response.status_code == 302
        refund = Refund.objects.get(order=order)
        assert (refund.status, refund.amount, refund.destination) == ("succeeded", Decimal("7.00"), "original")
        assert refund.reason_code == "not_delivered"  # what the customer is told, in their language
        client.post(f"/lines/{line.pk}/esim/refund/")  # asked twice: refunded once
        assert Refund.objects.count() == 1
        line.refresh_from_db()
        wait.refresh_from_db()
        assert wait.status == "refunded" and line.period_end <= later
        assert 'data-testid="esim-refunded"' in client.get(f"/lines/{line.pk}/esim/").content.decode()
        # stock arriving now sends nothing to a refunded line
        inventory_import(file_name="late.csv", content=stock_csv(11))
        run_tasks()
        assert not EsimOrder.objects.filter(line=line).exists()


def test_only_staff_allowed_set_the_threshold(client, django_user_model):
    from django.contrib.auth.models import Group

    from refill.esim.models import StockAlert

    support = make_staff("support", "sup@example.com")  # sees the stock, does not set thresholds
    login(client, support)
    assert client.get("/backoffice/esim/inventory/").status_code == 200
    response = client.post("/backoffice/esim/inventory/", {"profile_type": "consumer", "low_at": "3"})
    assert response.status_code == 403 and not StockAlert.objects.exists()
    admin = django_user_model.objects.create_user("adm@example.com", "x-pass-12345", is_staff=True, role="staff")
    admin.groups.add(Group.objects.get(name="admin"))
    client.logout()
    login(client, admin)
    client.post("/backoffice/esim/inventory/", {"profile_type": "consumer", "low_at": "3"})
    assert StockAlert.objects.get().low_at == 3
