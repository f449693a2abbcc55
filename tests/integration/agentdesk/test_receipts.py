"""The receipt of a sale at the counter, laid out for an 80 mm thermal roll and for A4, in the
customer's language; reachable only by the agents of the shop that made the sale."""

from pathlib import Path

import pytest
from django.urls import reverse

from refill.orders.models import Order
from tests.factories import login, renew

from .conftest import make_agent, make_shop, renew_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(client, agent, customer_line, plan):
    customer, line = customer_line
    verify_by_pin(client, line)
    renew_at_counter(client, line, plan)
    return Order.objects.get(customer=customer)


def test_the_thermal_receipt(client, sold):
    page = client.get(reverse("agentdesk:receipt", args=[sold.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'class="receipt-page receipt-page-thermal"' in body and 'data-layout="thermal"' in body
    assert sold.receipt.display_number in body and "$25.00" in body and "Cash in a shop" in body
    assert "+1 202-555-0143" in body and "Main Street" in body
    assert "Alice Example" not in body  # the desk's receipts name the number, not the person
    assert 'style="' not in body and "<style" not in body and "<script>" not in body  # CSP: no inline
    assert reverse("agentdesk:receipt_a4", args=[sold.pk]) in body


def test_the_print_styles_pick_an_80mm_roll_or_a4():
    from django.contrib.staticfiles import finders

    css = Path(finders.find("refill/refill.css")).read_text()
    print_rules = css[css.index("@page thermal") :]
    assert "size: 80mm auto" in print_rules and "size: A4" in print_rules
    assert "body.receipt-page-thermal { page: thermal; }" in css and "body.receipt-page-a4 { page: a4; }" in css
    assert finders.find("agentdesk/print.js") is not None


def test_the_a4_receipt_and_pdf(client, sold):
    page = client.get(reverse("agentdesk:receipt_a4", args=[sold.pk])).content.decode()
    assert 'class="receipt-page receipt-page-a4"' in page and sold.receipt.display_number in page
    pdf = client.get(reverse("agentdesk:receipt_pdf", args=[sold.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_the_receipt_is_in_the_customers_language(client, sold):
    type(sold.customer).objects.filter(pk=sold.customer_id).update(preferred_language="zh-hans")
    page = client.get(reverse("agentdesk:receipt", args=[sold.pk])).content.decode()
    assert 'lang="zh-Hans"' in page and "收据" in page and "30天套餐" in page
    assert '<html lang="en">' in page  # the agent's own page stays in the agent's language


def test_another_shops_agent_cannot_reach_the_receipt(client, sold, market):
    login(client, make_agent(make_shop(market, "harbour", "Harbour Road"), "harbour@example.com"))
    for name in ("agentdesk:receipt", "agentdesk:receipt_a4", "agentdesk:receipt_pdf"):
        assert client.get(reverse(name, args=[sold.pk])).status_code == 404


def test_an_order_not_made_at_a_counter_has_no_desk_receipt(client, agent, customer_line, plan):
    customer, line = customer_line
    order, _ = renew(line, plan)  # paid on the web
    assert client.get(reverse("agentdesk:receipt", args=[order.pk])).status_code == 404
