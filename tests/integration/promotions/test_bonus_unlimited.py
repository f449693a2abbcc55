"""A data bonus is no gift on a plan with unlimited data: the automatic "10 GB holiday bonus" is
neither shown in the quote nor granted there, while it still is on a plan with a data allowance
(issue 23, item 4)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.orders.pricing import renewal_quote_promoted
from refill.promotions.models import Promotion, Redemption
from refill.subscriptions.models import Bucket
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db

GB = 1024


@pytest.fixture
def world():
    market = make_market()
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    monthly = make_plan(market, "us-month", price="35.00", validity_kind="months", validity_count=1, data_mb=None,
                        voice_minutes=None, sms=None, name_en="Monthly Unlimited")  # fmt: skip
    holiday = Promotion.objects.create(
        market=market, name_en="Holiday bonus: 10 GB extra", name_zh_hans="假日赠送 10 GB 流量",
        kind=Promotion.Kind.BONUS_ALLOWANCE, bonus_data_mb=10 * GB, exclusive=False, priority=50,
        starts_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    holiday.plans.set([thirty, monthly])
    customer, user = make_customer("holiday@example.com")
    line = make_line(customer, market, thirty, msisdn="+12025550143")
    return line, user, thirty, monthly, holiday


def test_the_holiday_data_bonus_is_not_granted_on_unlimited_data(world):
    line, _user, thirty, monthly, holiday = world
    # when the customer renews onto Monthly Unlimited
    order, _payment = renew(line, monthly)
    # then no bonus is held, redeemed or granted
    assert not Redemption.objects.filter(order=order).exists()
    assert not Bucket.objects.filter(line=line, source=Bucket.Source.PROMOTION).exists()
    holiday.refresh_from_db()
    assert holiday.redeemed == 0
    quote = renewal_quote_promoted(line=line, plan=monthly, periods=1)
    assert list(quote.taken) == [] and quote.offers.bonus == {}


def test_the_holiday_data_bonus_still_comes_with_a_data_allowance(world):
    line, _user, thirty, monthly, holiday = world
    order, _payment = renew(line, thirty)
    redemption = Redemption.objects.get(order=order, promotion=holiday)
    assert redemption.bonus_data_mb == 10 * GB
    bonus = Bucket.objects.get(line=line, source=Bucket.Source.PROMOTION)
    assert (bonus.kind, bonus.granted) == ("data", 10 * GB)


def test_the_renewal_page_does_not_show_the_bonus_for_an_unlimited_plan(client, world):
    line, user, thirty, monthly, holiday = world
    login(client, user)
    url = reverse("portal:renew_quote", args=[line.pk])
    unlimited = client.get(url, {"plan": "us-month", "periods": 1}).content.decode()
    limited = client.get(url, {"plan": "us-30day", "periods": 1}).content.decode()
    assert "Holiday bonus" in limited and "10 GB" in limited
    assert "Holiday bonus" not in unlimited and "10 GB" not in unlimited
