import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from refill.orders.models import Order
from refill.payments.models import Payment
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    make_plan(
        market,
        "us-daily",
        price="1.50",
        validity_count=1,
        max_prepaid_periods=30,
        name_en="Day Pass",
        name_zh_hans="日套餐",
    )
    customer, user = make_customer("owner@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    renew(line, plan, now=timezone.now() - timedelta(days=10))
    login(client, user)
    return market, plan, customer, line


def pay_form(client, line, *, plan="us-30day", periods=1, card="4242 4242 4242 4242", key=None):
    page = client.get(reverse("portal:renew", args=[line.pk]), {"plan": plan, "periods": periods})
    key = key or re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)
    expected = re.search(r'name="expected_total" value="([0-9.]+)"', page.content.decode()).group(1)
    return {
        "plan": plan,
        "periods": periods,
        "idempotency_key": key,
        "expected_total": expected,
        "card_number": card,
        "card_expiry": "12/39",
        "card_cvc": "123",
        "action": "pay",
    }


def test_home_shows_lines_with_balances(client, world):
    page = client.get(reverse("portal:home")).content.decode()
    assert "+1 202-555-0143" in page
    assert "30-Day Plan" in page
    assert "20 GB left of 20 GB" in page
    assert "eSIM" in page and "Active" in page


def test_quote_shows_price_and_new_expiry_before_paying(client, world):
    market, plan, customer, line = world
    # On a fixed day, the line's paid time ends at a known instant (11 a.m. in New York); the quote
    # adds two 30-day periods in the market's calendar, across the March DST change.
    start, end = datetime(2026, 12, 21, 16, 0, tzinfo=UTC), datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    Period.objects.filter(line=line).update(start=start, end=end)
    type(line).objects.filter(pk=line.pk).update(period_end=end)
    with time_machine.travel(datetime(2027, 1, 1, 17, 0, tzinfo=UTC), tick=False):
        login(client, customer.users.get())  # a session of that day
        page = client.get(
            reverse("portal:renew_quote", args=[line.pk]), {"plan": "us-30day", "periods": 2}
        ).content.decode()
    assert "$50.00" in page
    found = re.search(r'<dd data-testid="new-expiry">([^<]*)</dd>', page)
    assert found is not None
    # a validity is a day and month (issue 26): 20 Jan + 2 × 30 days, the day read in New York
    assert html.unescape(found.group(1)) == "21 Mar"


def test_pay_renews_and_lands_on_confirmation(client, world, mailoutbox):
    market, plan, customer, line = world
    old_end = line.period_end
    response = client.post(reverse("portal:renew", args=[line.pk]), pay_form(client, line))
    order = Order.objects.filter(customer=customer).order_by("-pk").first()
    assert response.status_code == 302 and response.url == reverse("portal:order_confirmation", args=[order.pk])
    line.refresh_from_db()
    assert line.period_end == old_end + timedelta(days=30)
    page = client.get(response.url).content.decode()
    assert "Renewal confirmed" in page and order.receipt.display_number in page


def test_double_submit_creates_one_order_and_one_charge(client, world):
    market, plan, customer, line = world
    form = pay_form(client, line)
    first = client.post(reverse("portal:renew", args=[line.pk]), form)
    second = client.post(reverse("portal:renew", args=[line.pk]), form)
    assert first.url == second.url
    assert Order.objects.filter(customer=customer).count() == 2  # the seed renewal and this one
    assert Payment.objects.filter(status="succeeded").count() == 2
    assert Period.objects.filter(line=line).count() == 2


@pytest.mark.parametrize(
    ("card", "words"),
    [
        ("4000 0000 0000 9995", "not enough money"),
        ("4000 0000 0000 9987", "over its spending limit"),
        ("4000 0000 0000 9979", "frozen"),
        ("4000 0000 0000 0069", "has expired"),
        ("4000 0000 0000 0119", "could not reach your bank"),
    ],
)
def test_declines_are_explained_and_change_nothing(client, world, card, words):
    market, plan, customer, line = world
    before = line.period_end
    response = client.post(reverse("portal:renew", args=[line.pk]), pay_form(client, line, card=card))
    assert response.status_code == 402
    page = response.content.decode()
    assert words in page and "Nothing was charged" in page
    # the number comes back as typed so it is never retyped (issue 26); the security code does not
    assert f'value="{card}"' in page and 'name="card_cvc"' in page and 'value="123"' not in page
    line.refresh_from_db()
    assert line.period_end == before and Period.objects.filter(line=line).count() == 1


def test_a_provider_timeout_shows_a_confirming_page_until_reconciled(client, world):
    from refill.orders.settling import payments_reconcile

    market, plan, customer, line = world
    response = client.post(reverse("portal:renew", args=[line.pk]), pay_form(client, line, card="4000 0000 0000 0341"))
    assert response.status_code == 302 and "/orders/" in response.url and "confirmation" not in response.url
    page = client.get(response.url).content.decode()
    assert 'data-testid="confirming"' in page and "not be charged twice" in page and "Try again" not in page
    payments_reconcile()
    page = client.get(response.url).content.decode()
    assert 'data-testid="confirming"' not in page and "Receipt" in page
    assert Period.objects.filter(line=line).count() == 2


def test_decline_in_chinese(client, world):
    market, plan, customer, line = world
    customer.preferred_language = "zh-hans"
    customer.save()
    response = client.post(reverse("portal:renew", args=[line.pk]), pay_form(client, line, card="4000 0000 0000 9995"))
    page = response.content.decode()
    assert response.status_code == 402
    assert "余额不足" in page or "资金不足" in page or "不足" in page


def test_bad_input_is_refused_without_an_order(client, world):
    market, plan, customer, line = world
    form = pay_form(client, line)
    form["card_number"] = "1234"
    response = client.post(reverse("portal:renew", args=[line.pk]), form)
    assert response.status_code == 400
    form = pay_form(client, line)
    form["periods"] = 99
    response = client.post(reverse("portal:renew", args=[line.pk]), form)
    assert response.status_code == 400
    assert Order.objects.filter(customer=customer).count() == 1


def test_other_customers_cannot_see_or_renew_a_line(client, world):
    market, plan, customer, line = world
    stranger_customer, stranger = make_customer("stranger@example.com")
    login(client, stranger)
    assert client.get(reverse("portal:renew", args=[line.pk])).status_code == 404
    assert client.post(reverse("portal:renew", args=[line.pk]), {"plan": "us-30day"}).status_code == 404
    order = Order.objects.get(customer=customer)
    assert client.get(reverse("portal:order_detail", args=[order.pk])).status_code == 404
    assert client.get(reverse("portal:order_confirmation", args=[order.pk])).status_code == 404
    assert "+1 202-555-0143" not in client.get(reverse("portal:home")).content.decode()


def test_pages_need_login(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_order_history_lists_receipts(client, world):
    market, plan, customer, line = world
    page = client.get(reverse("portal:orders")).content.decode()
    order = Order.objects.get(customer=customer)
    assert order.receipt.display_number in page
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert "VISA •••• 4242" in detail


def test_language_switch_is_remembered_on_the_account(client, world):
    market, plan, customer, line = world
    client.post(reverse("portal:set_language"), {"language": "zh-hans", "next": "/lines/"})
    customer.refresh_from_db()
    assert customer.preferred_language == "zh-hans"
    client.cookies.clear()  # a new browser: the account still decides
    login(client, customer.users.get())
    page = client.get(reverse("portal:home")).content.decode()
    assert "我的号码" in page or "续费" in page


def test_preferences_save(client, world):
    market, plan, customer, line = world
    response = client.post(
        reverse("portal:preferences"),
        {"display_name": "Ann", "preferred_language": "en", "time_zone": "Asia/Shanghai", "notify_email": "on"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.time_zone, customer.notify_email, customer.notify_sms) == ("Asia/Shanghai", True, False)
    bad = client.post(reverse("portal:preferences"), {"preferred_language": "xx", "time_zone": "Mars/Base"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
