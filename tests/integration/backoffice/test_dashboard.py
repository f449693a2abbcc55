"""The back office's first page is a dashboard: today's renewals and revenue (the operator's day,
per currency), auto-renewals that failed (today, and lines still not renewed after a failure),
support requests waiting, low eSIM stock and a customer search box, each figure linking to the page
behind it, each shown only to the roles that may see it; never a list of customers. Its queries do
not grow with the data."""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from refill.backoffice.dashboard import dashboard, lines_needing_attention, operator_today, sales_today
from refill.customers.models import Customer, User
from refill.renewals.models import RenewalAttempt
from refill.support.models import Ticket
from tests.factories import login, make_customer, make_line, make_plan, make_staff, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db

DECLINED_CARD = "4000000000000002"
# New York is UTC-4 in June: the operator's 10 June runs from 04:00 UTC on the 10th to 04:00 on the 11th.
NOON_NEW_YORK = datetime(2026, 6, 10, 16, 0, 5, tzinfo=UTC)
LATE_9_JUNE = datetime(2026, 6, 10, 3, 30, tzinfo=UTC)  # 23:30 on 9 June in New York
EARLY_10_JUNE = datetime(2026, 6, 10, 4, 30, tzinfo=UTC)  # 00:30 on 10 June in New York
SHANGHAI_11_JUNE = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)  # 01:00 on 11 June in Shanghai, 13:00 on 10 June in NY
_numbers = itertools.count(1000)
_tickets = itertools.count(1)


@pytest.fixture(autouse=True)
def _operator_zone(settings):
    settings.REFILL_DEFAULT_TIME_ZONE = "America/New_York"


def staff_in(client, role: str, email: str | None = None) -> User:
    user = make_staff(role, email or f"{role}-board@example.com")
    login(client, user)
    return user


def us_line(plan, name: str = ""):
    customer, _ = make_customer(f"{name or 'line'}{next(_numbers)}@example.com")
    if name:
        Customer.objects.filter(pk=customer.pk).update(display_name=name)
    return make_line(customer, plan.market, plan, msisdn=f"+1202555{next(_numbers):04d}")


def cn_line(plan):
    customer, _ = make_customer(f"cn{next(_numbers)}@example.com", tz="Asia/Shanghai")
    return make_line(customer, plan.market, plan, msisdn=f"+86138001{next(_numbers):05d}")


def paid(line, plan, at, **extra):
    with time_machine.travel(at, tick=False):
        order, _ = renew(line, plan, now=at, **extra)
    return order


def failed_attempt(line, finished_at, *, status=RenewalAttempt.Status.FAILED, reason="insufficient_funds", number=1):
    return RenewalAttempt.objects.create(
        line=line,
        cycle_end=line.period_end,
        number=number,
        due_at=finished_at - timedelta(minutes=5),
        status=status,
        reason=reason,
        started_at=finished_at - timedelta(minutes=1),
        finished_at=finished_at,
    )


def ticket(status=Ticket.Status.NEW, waiting_since=None, **extra):
    return Ticket.objects.create(
        reference=f"SR-{next(_tickets):08d}",
        category="other",
        subject="My line",
        status=status,
        awaiting_since=waiting_since,
        **extra,
    )


@pytest.fixture
def world(us, cn, us_plan):
    """Paid renewals either side of the operator's midnight, in two currencies; a declined one; an
    add-on-free top-up day; failed auto-renewals today and yesterday; tickets in every state."""
    cn_plan = make_plan(cn, "cn-30day", price="100.00")
    paid(us_line(us_plan), us_plan, LATE_9_JUNE)  # yesterday in New York: not today's
    paid(us_line(us_plan), us_plan, EARLY_10_JUNE)
    paid(us_line(us_plan), us_plan, NOON_NEW_YORK - timedelta(hours=2))
    paid(cn_line(cn_plan), cn_plan, SHANGHAI_11_JUNE)  # the operator's 10 June, whatever Shanghai says
    with time_machine.travel(NOON_NEW_YORK - timedelta(hours=1), tick=False):
        declined, _ = renew(us_line(us_plan), us_plan, card=DECLINED_CARD)
    assert declined.status != "paid"

    today_failed = us_line(us_plan, name="Ada Failing")
    paid(today_failed, us_plan, LATE_9_JUNE)
    failed_attempt(today_failed, NOON_NEW_YORK - timedelta(hours=3))
    yesterday_failed = us_line(us_plan)
    paid(yesterday_failed, us_plan, LATE_9_JUNE)
    failed_attempt(yesterday_failed, LATE_9_JUNE + timedelta(minutes=10), status=RenewalAttempt.Status.OVER_CAP,
                   reason="renewal_cap")  # fmt: skip
    recovered = us_line(us_plan)  # failed once, then the retry renewed it: nothing to do
    paid(recovered, us_plan, LATE_9_JUNE)
    failed_attempt(recovered, EARLY_10_JUNE)
    RenewalAttempt.objects.create(
        line=recovered, cycle_end=recovered.period_end, number=2, due_at=EARLY_10_JUNE, status="succeeded",
        finished_at=EARLY_10_JUNE + timedelta(hours=1),
    )  # fmt: skip
    ticket(waiting_since=NOON_NEW_YORK - timedelta(hours=5))
    ticket(status=Ticket.Status.OPEN, waiting_since=NOON_NEW_YORK - timedelta(hours=1))
    ticket(status=Ticket.Status.WAITING)  # the customer's turn
    ticket(status=Ticket.Status.RESOLVED)
    return {"today_failed": today_failed, "yesterday_failed": yesterday_failed, "recovered": recovered}


@time_machine.travel(NOON_NEW_YORK, tick=False)
def test_todays_figures_in_the_operators_day_per_currency(world, client):
    admin = staff_in(client, "admin")
    board = dashboard(admin)
    assert board.today.day == date(2026, 6, 10)
    assert board.renewals == 3  # the late 9 June sale and the declined card are not today's
    assert [(r.currency, r.amount) for r in board.revenue] == [("CNY", Decimal("100.00")), ("USD", Decimal("50.00"))]
    assert board.failed_today == 1  # the over-cap one was yesterday; the retry renewed the other
    assert board.attention == 2  # the line renewed by a retry needs nothing
    assert [line.pk for line in board.attention_lines] == [world["today_failed"].pk, world["yesterday_failed"].pk]
    assert board.tickets_waiting == 2 and board.waiting_since == NOON_NEW_YORK - timedelta(hours=5)

    page = client.get(reverse("backoffice:index"))
    body = page.content.decode()
    text = visible_text(body)
    assert "¥100.00" in text and "$50.00" in text
    assert f'href="{reverse("backoffice:reports")}?date_from=2026-06-10&amp;date_to=2026-06-10"' in body
    assert f'href="{reverse("backoffice:autorenew_attention")}?failed=today"' in body
    assert f'href="{reverse("support_admin:queue")}"' in body
    assert f'href="{reverse("backoffice:esim_inventory")}" data-testid="figure-esim"' in body
    # each line needing attention links to its customer's 360, at the line
    line = world["today_failed"]
    assert f'href="{reverse("backoffice:customer", args=[line.owner_id])}#line-{line.pk}"' in body
    assert "Ada Failing" in text


def test_today_turns_at_the_operators_midnight(us, us_plan, settings):
    paid(us_line(us_plan), us_plan, datetime(2026, 6, 11, 3, 50, tzinfo=UTC))  # 23:50 on 10 June in NY
    paid(us_line(us_plan), us_plan, datetime(2026, 6, 11, 4, 10, tzinfo=UTC))  # 00:10 on 11 June in NY
    before = operator_today(datetime(2026, 6, 11, 3, 59, 59, tzinfo=UTC))
    after = operator_today(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    assert (before.day, after.day) == (date(2026, 6, 10), date(2026, 6, 11))
    assert sales_today(before)[0] == 1 and sales_today(after)[0] == 1
    # An operator in Shanghai has both sales on its 11 June (11:50 and 12:10 there).
    settings.REFILL_DEFAULT_TIME_ZONE = "Asia/Shanghai"
    shanghai = operator_today(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    assert shanghai.day == date(2026, 6, 11) and sales_today(shanghai)[0] == 2
    # A day the clocks change is 23 hours long (8 March 2026 in New York), and still one day.
    settings.REFILL_DEFAULT_TIME_ZONE = "America/New_York"
    spring = operator_today(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    assert spring.end - spring.start == timedelta(hours=23)


@time_machine.travel(NOON_NEW_YORK, tick=False)
@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("support", {"failed-today", "attention", "tickets", "esim", "search"}, {"renewals", "revenue"}),
        ("finance", {"renewals", "revenue", "failed-today", "attention", "tickets", "search"}, {"esim"}),
        ("catalog", {"renewals", "revenue"}, {"failed-today", "attention", "tickets", "esim", "search"}),
        ("admin", {"renewals", "revenue", "failed-today", "attention", "tickets", "esim", "search"}, set()),
    ],
)
def test_each_role_sees_only_its_figures(world, client, role, shown, hidden):
    staff_in(client, role)
    body = client.get(reverse("backoffice:index")).content.decode()

    def present(name):
        return f'data-testid="{"dashboard-search" if name == "search" else "figure-" + name}"' in body

    assert {name for name in shown | hidden if present(name)} == shown
    # and only links to pages the role may open
    if role == "catalog":
        assert reverse("backoffice:customers") not in body and reverse("backoffice:trial_balance") not in body


@time_machine.travel(NOON_NEW_YORK, tick=False)
def test_no_list_of_customers_anywhere(world, client):
    staff_in(client, "support")
    names = list(Customer.objects.values_list("display_name", flat=True))
    home = visible_text(client.get(reverse("backoffice:index")).content.decode())
    customers = client.get(reverse("backoffice:customers")).content.decode()
    # The home page names only the customers whose renewal failed (to call them), no one else.
    assert sorted(name for name in names if name in home) == sorted(
        str(world[key].owner) for key in ("today_failed", "yesterday_failed")
    )
    assert 'data-testid="customers-found"' not in customers
    assert [name for name in names if name in visible_text(customers)] == []
    # The search box finds one by name and opens their page.
    found = client.get(reverse("backoffice:customers"), {"q": "Ada Fail"})
    assert found.status_code == 302
    assert found["Location"] == reverse("backoffice:customer", args=[world["today_failed"].owner_id])


@time_machine.travel(NOON_NEW_YORK, tick=False)
def test_the_attention_page_lists_the_lines_and_todays_only(world, client):
    staff_in(client, "support")
    every = client.get(reverse("backoffice:autorenew_attention")).content.decode()
    today = client.get(reverse("backoffice:autorenew_attention"), {"failed": "today"}).content.decode()
    ids = {name: f'data-testid="attention-{line.pk}"' for name, line in world.items()}
    assert ids["today_failed"] in every and ids["yesterday_failed"] in every and ids["recovered"] not in every
    assert ids["today_failed"] in today and ids["yesterday_failed"] not in today
    # the reason in words, not the stored code
    assert "renewal_cap" not in visible_text(every) and "insufficient_funds" not in visible_text(every)
    assert [line.pk for line in lines_needing_attention()] == [world["today_failed"].pk, world["yesterday_failed"].pk]
    other = Client()
    staff_in(other, "catalog")
    assert other.get(reverse("backoffice:autorenew_attention")).status_code == 403


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("backoffice:index")).status_code == 200
    return len(captured.captured_queries)


@time_machine.travel(NOON_NEW_YORK, tick=False)
def test_the_dashboard_queries_do_not_grow_with_the_data(world, client, us_plan):
    staff_in(client, "admin")
    before = _queries(client)
    for _ in range(4):  # more of everything the page counts or lists
        paid(us_line(us_plan), us_plan, NOON_NEW_YORK - timedelta(minutes=30))
        failing = us_line(us_plan)
        paid(failing, us_plan, LATE_9_JUNE)
        failed_attempt(failing, NOON_NEW_YORK - timedelta(minutes=20))
        ticket(waiting_since=NOON_NEW_YORK - timedelta(hours=2))
    board = dashboard(User.objects.get(email="admin-board@example.com"))
    assert board.renewals == 7 and board.attention == 6 and board.tickets_waiting == 6
    assert _queries(client) == before
