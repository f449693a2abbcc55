"""The wallet page says what each payment was for (an add-on is named as one) and offers top-ups
in the customer's own market currency first (issue 23, item 7)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.ledger.services import wallet_adjust
from refill.orders.paying import order_pay_wallet
from refill.renewals.addons import order_create_addon
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db

GB = 1024


@pytest.fixture
def world(client):
    us = make_market()
    cn = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plan = make_plan(us, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    booster = make_plan(us, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
                        name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
    cn_plan = make_plan(cn, "cn-month", price="50.00", validity_kind="months", validity_count=1)
    customer, user = make_customer("statement@example.com")
    line = make_line(customer, us, plan, msisdn="+12025550143")
    make_line(customer, us, plan, msisdn="+12025550144")
    make_line(customer, cn, cn_plan, msisdn="+8613800138000")
    renew(line, plan, now=timezone.now() - timedelta(days=3))
    login(client, user)
    return customer, user, line, booster


def _rows(page: str) -> list[str]:
    body = re.search(r'data-testid="wallet-USD".*?</table>', page, re.S).group(0)
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"</?span[^>]*>", "", row))).strip()
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_an_add_on_paid_from_the_wallet_is_named_as_an_add_on(client, world):
    customer, _user, line, booster = world
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("20.00"), reason="goodwill", key="statement-1")
    order = order_create_addon(customer=customer, line=line, plan=booster, idempotency_key="addon-1", language="en")
    order_pay_wallet(order=order)
    rows = _rows(client.get(reverse("portal:wallet")).content.decode())
    spent = [row for row in rows if "-$10.00" in row]
    assert len(spent) == 1
    assert f"Add-on for {line.msisdn_display}: 5 GB Data Booster" in spent[0]
    assert not any("renewal" in row.lower() for row in rows)


def test_a_renewal_paid_from_the_wallet_names_the_number_and_plan(client, world):
    customer, _user, line, _booster = world
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("30.00"), reason="goodwill", key="statement-2")
    from refill.orders.checkout import order_create_renewal

    order = order_create_renewal(customer=customer, line=line, plan=line.plan, periods=1, idempotency_key="r-1")
    order_pay_wallet(order=order)
    rows = _rows(client.get(reverse("portal:wallet")).content.decode())
    assert any(f"Renewal of {line.msisdn_display}: 30-Day Plan" in row and "-$25.00" in row for row in rows)


def test_top_up_currency_defaults_to_the_customers_market(client, world):
    page = client.get(reverse("portal:wallet")).content.decode()
    select = re.search(r'<select name="market".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="us" selected>USD</option>', select), select
    # A customer whose lines are all in China tops up in CNY.
    cn = make_market("cn")
    other, other_user = make_customer("li@example.com", language="zh-hans", tz="Asia/Shanghai")
    make_line(other, cn, make_plan(cn, "cn-day", price="5.00"), msisdn="+8613912345678")
    login(client, other_user)
    page = client.get(reverse("portal:wallet")).content.decode()
    assert re.search(r'<option value="cn" selected>CNY</option>', page)
