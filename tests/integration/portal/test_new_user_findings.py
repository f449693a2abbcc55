"""A new user's findings after issue 23 (h13): the new-number page starts in the customer's own
market, the same rule as the wallet top-up's currency."""

import re

import pytest
from django.utils import timezone

from refill.lines.models import PoolNumber
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db


def _selected_market(html: str) -> str:
    found = re.search(r'<option value="([a-z]+)" selected>', html)
    return found.group(1) if found else ""


def test_new_number_defaults_to_the_customers_own_market(client, monkeypatch):
    monkeypatch.setattr("refill.portal.esim_views.new_lines_can_get_esim", lambda: True)
    us = make_market("us")
    cn = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    us_plan, cn_plan = make_plan(us, "us-month"), make_plan(cn, "cn-month")
    for msisdn, market in (("+12025550181", us), ("+8613800000181", cn)):
        PoolNumber.objects.create(msisdn=msisdn, market=market, status="available", available_since=timezone.now())
    customer, user = make_customer(tz="America/New_York")
    make_line(customer, us, us_plan)
    make_line(customer, us, us_plan)
    login(client, user)
    page = client.get("/lines/new/").content.decode()
    assert _selected_market(page) == "us"
    assert 'data-testid="new-plan-us-month"' in page and "cn-month" not in page

    # No lines yet: their time zone decides; a travel line in China does not outweigh two US lines.
    other, other_user = make_customer(tz="Asia/Shanghai")
    login(client, other_user)
    assert _selected_market(client.get("/lines/new/").content.decode()) == "cn"
    make_line(customer, cn, cn_plan)
    login(client, user)
    assert _selected_market(client.get("/lines/new/").content.decode()) == "us"


def test_the_wallet_and_the_new_number_page_share_one_rule():
    from refill.lines.selectors import customer_markets_ranked
    from refill.portal.wallet import wallet_markets

    us = make_market("us")
    cn = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    customer, _ = make_customer(tz="Asia/Shanghai")
    make_line(customer, us, make_plan(us))
    make_line(customer, cn, make_plan(cn))
    # a tie on lines: the customer's time zone wins
    assert [m.code for m in customer_markets_ranked(customer)] == ["cn", "us"]
    assert wallet_markets(customer) == customer_markets_ranked(customer)
    assert [m.code for m in customer_markets_ranked(customer, [us, cn])] == ["cn", "us"]
