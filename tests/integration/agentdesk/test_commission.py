"""Commission: each counter sale earns its agent the plan's rate (a percentage of the price before
tax plus a fixed amount), fixed when the sale is made; the agent's monthly statement lists their
paid sales and what each earned, and nobody else's."""

from decimal import Decimal

import pytest
from django.urls import reverse

from refill.agentdesk.models import CommissionRate, ShopSale
from tests.factories import login

from .conftest import make_agent, renew_at_counter, topup_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


def test_a_sale_earns_the_plans_rate_and_shows_on_the_statement(client, agent, shop, plan, customer_line):
    _, line = customer_line
    CommissionRate.objects.create(plan=plan, percent=Decimal("4.00"), amount=Decimal("0.50"))
    verify_by_pin(client, line)
    renew_at_counter(client, line, plan)
    topup_at_counter(client, line)
    sales = {sale.order.items.get().kind: sale for sale in ShopSale.objects.select_related("order")}
    assert sales["renewal"].commission == Decimal("1.50")  # 4 % of 25.00, plus 0.50
    assert sales["wallet_topup"].commission == 0  # top-ups earn nothing
    CommissionRate.objects.filter(plan=plan).update(percent=Decimal("10.00"))  # later changes keep what was earned
    page = client.get(reverse("agentdesk:commission"))
    assert page.status_code == 200
    assert page.content.decode().count("<tr>") >= 2
    assert "$1.50" in page.content.decode() and b'data-testid="commission-total-USD"' in page.content


def test_an_agent_sees_only_their_own_commission(client, agent, shop, plan, customer_line):
    _, line = customer_line
    CommissionRate.objects.create(plan=plan, percent=Decimal("4.00"))
    verify_by_pin(client, line)
    renew_at_counter(client, line, plan)
    colleague = make_agent(shop, "colleague@example.com")
    login(client, colleague)
    page = client.get(reverse("agentdesk:commission")).content.decode()
    assert "$1.00" not in page and "commission-sales" not in page
