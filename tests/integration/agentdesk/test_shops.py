"""Who may use the counter: agents of an active shop. Staff are not agents; an agent without a
shop is told why; a shop serves the numbers of its own market."""

import pytest
from django.urls import reverse

from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff

from .conftest import make_agent, make_shop

pytestmark = pytest.mark.django_db


def test_an_agent_without_a_shop_is_told_why_and_kept_out(client, customer_line):
    customer, line = customer_line
    login(client, make_agent(None, "drifter@example.com"))
    page = client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn})
    assert page.status_code == 200
    body = page.content.decode()
    assert "not assigned to a shop" in body and 'data-testid="agent-line"' not in body
    for url in (
        reverse("agentdesk:verify_pin", args=[line.pk]),
        reverse("agentdesk:send_code", args=[line.pk]),
        reverse("agentdesk:drawer"),
    ):
        answer = client.post(url, {"shop_pin": "2468", "counted": "0", "idempotency_key": "k"})
        assert answer.status_code == 403 and "not assigned to a shop" in answer.content.decode()


def test_an_inactive_shop_closes_its_counter(client, shop, agent, customer_line):
    shop.active = False
    shop.save()
    assert "not assigned to a shop" in client.get(reverse("agentdesk:desk")).content.decode()
    assert client.get(reverse("agentdesk:drawer")).status_code == 403


def test_staff_are_not_agents(client, customer_line):
    staff = make_staff(email="support@example.com")
    login(client, staff)
    assert client.get(reverse("agentdesk:desk")).status_code == 403
    assert client.get(reverse("agentdesk:drawer_closes")).status_code == 403


def test_a_shop_serves_the_numbers_of_its_market(client, agent, customer_line):
    cn = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    customer, _ = make_customer("wang@example.com")
    line = make_line(customer, cn, make_plan(cn), msisdn="+8613800138000")
    page = client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn}).content.decode()
    assert "could not find that phone number" in page
    assert client.post(reverse("agentdesk:send_code", args=[line.pk])).status_code == 404


def test_the_desk_names_the_agents_shop(client, shop, agent, market):
    make_shop(market, "harbour", "Harbour Road")
    page = client.get(reverse("agentdesk:desk")).content.decode()
    assert 'data-testid="desk-shop">Main Street<' in page and "Harbour Road" not in page
