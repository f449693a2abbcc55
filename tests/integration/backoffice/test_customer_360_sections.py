"""The customer 360 fits a phone (issue 26): each long section is closed behind a summary with its
count, lists the newest rows with a "show all" link, and every cell carries its column's name for
the stacked rows of a narrow screen. What the page costs does not grow with the sections."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import login, make_customer, make_line, make_staff, renew

pytestmark = pytest.mark.django_db


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[html.rindex("<details", 0, start) : html.index("</details>", start)]


@pytest.fixture
def page(us, us_plan):
    customer, _ = make_customer("sections@example.com")
    line = make_line(customer, us, us_plan, msisdn="+12025550170")
    for _ in range(7):
        renew(line, us_plan)
    client = Client()
    login(client, make_staff("support", "support-sections@example.com"))
    url = reverse("backoffice:customer", args=[customer.pk])
    return lambda query="": client.get(url + query).content.decode()


def test_sections_are_closed_with_their_counts_and_the_newest_rows(page):
    html = page()
    orders = _section(html, "orders")
    assert orders.startswith('<details class="section" id="orders"') and " open" not in orders.split(">")[0]
    assert re.search(r'data-testid="section-count">7<', orders)
    assert orders.count("<tr><td") == 5  # the newest five
    assert 'href="?all=orders#orders" data-testid="show-all"' in orders
    payments = _section(html, "payments")
    assert re.search(r'data-testid="section-count">7<', payments) and payments.count("<tr><td") == 5
    # every cell of a stacked table names its column
    cells = [attributes or "" for attributes in re.findall(r"<td( [^>]*)?>", orders)]
    assert cells and all("data-label=" in cell or "row-actions" in cell for cell in cells)


def test_show_all_opens_the_section_with_every_row(page):
    orders = _section(page("?all=orders"), "orders")
    assert " open" in orders.split(">")[0] and orders.count("<tr><td") == 7 and 'data-testid="show-all"' not in orders
    assert _section(page("?all=orders"), "payments").count("<tr><td") == 5  # the others stay short
    assert _section(page("?all=nothing"), "orders").count("<tr><td") == 5
