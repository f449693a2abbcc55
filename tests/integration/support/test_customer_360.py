"""The customer 360 lists the customer's support requests with links to them; the demo data
gives demo customers an answered request and a resolved one, once."""

import pytest
from django.urls import reverse

from refill.support import services
from refill.support.models import Ticket

from .conftest import client_of, staff_user

pytestmark = pytest.mark.django_db


def test_the_customer_360_lists_their_support_requests(alice, li):
    customer, user, line = alice
    ticket = services.ticket_create(
        customer=customer, user=user, category="line_suspended", subject="Line off", body="b", files=[],
        language="en", line=line,
    ).ticket  # fmt: skip
    other = services.ticket_create(
        customer=li[0], user=li[1], category="other", subject="Not Alice", body="b", files=[], language="zh-hans"
    ).ticket
    for role in ("support", "finance"):
        page = client_of(staff_user(role)).get(reverse("backoffice:customer", args=[customer.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="support-requests"' in html and f'data-testid="ticket-{ticket.reference}"' in html
        assert reverse("support_admin:ticket", args=[ticket.reference]) in html and "Line off" in html
        assert other.reference not in html
    empty = client_of(staff_user("admin")).get(reverse("backoffice:customer", args=[li[0].pk + 1000]))
    assert empty.status_code == 404


def test_the_ticket_page_links_back_to_the_customer_360(alice):
    customer, user, _line = alice
    ticket = services.ticket_create(
        customer=customer, user=user, category="account", subject="s", body="b", files=[], language="en"
    ).ticket
    page = client_of(staff_user("support")).get(reverse("support_admin:ticket", args=[ticket.reference]))
    assert reverse("backoffice:customer", args=[customer.pk]) in page.content.decode()


def test_the_demo_requests_are_made_once(settings):
    from refill.demo.seed import demo_seed
    from refill.support.demo import tickets_seed

    demo_seed()  # which makes the demo requests (tickets_seed)
    assert tickets_seed() == 0
    for email in ("demo@example.com", "li.wei@example.com"):
        tickets = Ticket.objects.filter(customer__users__email=email)
        statuses = sorted(tickets.values_list("status", flat=True))
        assert statuses == ["resolved", "waiting"]
        answered = tickets.get(status="waiting")
        assert answered.messages.filter(kind="reply").exists() and answered.assignee is not None
