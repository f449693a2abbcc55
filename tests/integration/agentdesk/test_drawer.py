"""End of day: the agent counts the shop's cash drawer; the close records what the cash sales
since the previous close say should be there, what was counted, and the difference. Each cash
sale is settled by one close; a shop's closes and sales are its own."""

from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from refill.agentdesk.models import DrawerClose, ShopSale
from refill.agentdesk.services import drawer_close, drawer_open
from refill.audit.models import AuditEvent
from tests.factories import login, make_customer, make_line

from .conftest import SHOP_PIN, make_agent, make_shop, renew_at_counter, topup_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_of_sales(client, agent, customer_line, plan):
    """A cash renewal ($25), a cash top-up ($20) and a card renewal ($25) at the counter."""
    customer, line = customer_line
    verify_by_pin(client, line)
    renew_at_counter(client, line, plan, key="cash-renewal")
    topup_at_counter(client, line, "20.00")
    renew_at_counter(client, line, plan, pay="card", key="card-renewal")
    return customer, line


def close(client, counted: str, key: str = "close-1", note: str = ""):
    return client.post(reverse("agentdesk:drawer"), {"counted": counted, "note": note, "idempotency_key": key})


def test_close_records_expected_counted_and_difference(client, agent, shop, day_of_sales):
    page = client.get(reverse("agentdesk:drawer")).content.decode()
    assert "2 cash sales since then." in page
    assert "$45.00" not in page  # a blind count: the expected amount is shown after the close
    answer = close(client, "40.00", note="short a twenty?")
    drawer = DrawerClose.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "agentdesk:drawer_close_detail", args=[drawer.pk]
    )
    assert (drawer.expected, drawer.counted, drawer.difference) == (Decimal(45), Decimal(40), Decimal(-5))
    assert drawer.currency == "USD" and drawer.cash_sales == 2 and drawer.agent == agent
    assert ShopSale.objects.filter(drawer_close=drawer).count() == 3  # card sales are listed, not counted
    event = AuditEvent.objects.get(action="agentdesk.drawer_close")
    assert event.data["difference"] == "-5.00" and event.actor == agent and event.reason == "short a twenty?"
    detail = client.get(answer["Location"]).content.decode()
    assert 'data-testid="expected">$45.00<' in detail and 'data-testid="counted">$40.00<' in detail
    assert "-$5.00" in detail and "short a twenty?" in detail
    closes = client.get(reverse("agentdesk:drawer_closes")).content.decode()
    assert closes.count('data-testid="drawer-close-row"') == 1


def test_a_close_is_idempotent_per_submission(client, shop, day_of_sales):
    close(client, "45.00")
    close(client, "45.00")  # resent
    assert DrawerClose.objects.count() == 1
    page = client.post(
        reverse("agentdesk:drawer"), {"counted": "50.00", "idempotency_key": "close-1"}, follow=True
    ).content.decode()
    assert "already recorded with a different amount" in page
    assert DrawerClose.objects.get().counted == Decimal(45)


def test_the_next_close_counts_only_new_cash(client, shop, agent, day_of_sales, plan):
    customer, line = day_of_sales
    close(client, "45.00")
    close(client, "0", key="close-2")
    assert DrawerClose.objects.get(idempotency_key="close-2").expected == 0
    topup_at_counter(client, line, "10.00", key="topup-2")
    close(client, "10.00", key="close-3")
    third = DrawerClose.objects.get(idempotency_key="close-3")
    assert (third.expected, third.difference, third.cash_sales) == (Decimal(10), Decimal(0), 1)


def test_all_agents_of_the_shop_fill_one_drawer(client, shop, agent, day_of_sales, plan):
    customer, line = day_of_sales
    colleague = make_agent(shop, "colleague@example.com")
    login(client, colleague)
    verify_by_pin(client, line)
    topup_at_counter(client, line, "5.00", key="colleague-topup")
    assert drawer_open(shop)[0] == Decimal(50)
    close(client, "50.00")
    assert DrawerClose.objects.get().agent == colleague


def test_a_count_must_be_a_plain_amount(client, shop, day_of_sales):
    for counted in ("-1", "10.005", "lots"):
        assert close(client, counted, key=f"bad-{counted}").status_code == 400
    assert not DrawerClose.objects.exists()


def test_another_shop_sees_none_of_it(client, shop, agent, day_of_sales, market):
    customer, line = day_of_sales
    close(client, "45.00")
    drawer = DrawerClose.objects.get()
    harbour = make_shop(market, "harbour", "Harbour Road")
    login(client, make_agent(harbour, "harbour@example.com"))
    assert client.get(reverse("agentdesk:drawer_close_detail", args=[drawer.pk])).status_code == 404
    assert 'data-testid="drawer-close-row"' not in client.get(reverse("agentdesk:drawer_closes")).content.decode()
    # and its own drawer holds only its own sales
    other, _ = make_customer("carol@example.com")
    other.shop_pin_hash = make_password(SHOP_PIN)
    other.save()
    other_line = make_line(other, market, line.plan, msisdn="+12025550150")
    verify_by_pin(client, other_line)
    topup_at_counter(client, other_line, "7.00", key="harbour-1")
    topup_at_counter(client, line, "7.00", key="harbour-2")  # not verified here: refused
    close(client, "7.00", key="harbour-close")
    assert DrawerClose.objects.get(shop=harbour).expected == Decimal(7)
    assert drawer_open(shop)[0] == 0


def test_the_service_refuses_a_negative_count(shop, agent):
    from refill.agentdesk.services import CountedInvalid

    with pytest.raises(CountedInvalid):
        drawer_close(shop=shop, agent=agent, counted="-0.01", idempotency_key="x")
