"""Buying an add-on pass in the portal: the line's add-on page lists the market's passes with their
price and allowances, and checks out like a renewal (card, saved card, wallet); the confirmation,
the receipt page and the order list say what was bought, for which number, until when."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.formatting import day_text
from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.lines.services import lines_lapse_sweep
from refill.orders.models import Order, OrderItem
from refill.orders.paying import order_pay_card
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment
from refill.payments.services import method_add
from refill.subscriptions.models import Bucket, Period
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import card_token, login, make_customer, make_line, make_market, make_plan, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db

GB = 1024


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    booster = make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
                        name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
    make_plan(market, "us-keep", kind="retention", price="2.00")  # not an add-on: never offered here
    customer, user = make_customer("owner@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    renew(line, plan, now=timezone.now() - timedelta(days=10))
    login(client, user)
    return market, plan, booster, customer, line


def addon_form(client, line, *, plan="us-data-5gb", pay_with="card", card="4242 4242 4242 4242"):
    page = client.get(reverse("portal:addons", args=[line.pk]), {"plan": plan}).content.decode()
    return {
        "plan": plan,
        "idempotency_key": re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1),
        "expected_total": re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1),
        "pay_with": pay_with,
        "card_number": card,
        "card_expiry": "12/39",
        "card_cvc": "123",
        "action": "pay",
    }


def test_the_line_offers_its_markets_passes_with_price_and_allowance(client, world):
    market, plan, booster, customer, line = world
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:addons", args=[line.pk]) in home and "Buy an add-on" in home
    page = client.get(reverse("portal:addons", args=[line.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "5 GB Data Booster" in body and "$10.00" in body and "5 GB" in body
    # 20 days are left of the period: the 30-day pass is offered for what it gives, until the period's end
    assert "30 days" not in body and f"until {day_text(Period.objects.get(line=line).end)}" in body
    assert "Keep" not in body and "30-Day Plan" in body  # the current plan is named, not offered
    # the pass would outlast the period (30 days from now): it ends with it
    quote = page.context["quote"]
    assert quote.valid_until == Period.objects.get(line=line).end and quote.ends_with_period
    assert 'data-testid="addon-until"' in body and "Pay $10.00" in body
    panel = client.get(reverse("portal:addon_quote", args=[line.pk]), {"plan": "us-data-5gb"}).content.decode()
    assert "$10.00" in panel and 'hx-swap-oob="true"' in panel


def test_buy_a_pass_by_card_lands_on_its_confirmation(client, world):
    market, plan, booster, customer, line = world
    end_before = line.period_end
    form = addon_form(client, line)
    answer = client.post(reverse("portal:addons", args=[line.pk]), form)
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302 and answer.url == reverse("portal:order_confirmation", args=[order.pk])
    assert order.status == Order.Status.PAID and order.payments.get().method == Payment.Method.CARD
    assert Bucket.objects.filter(order_item__order=order, kind="data", granted=5 * GB).count() == 1
    line.refresh_from_db()
    assert line.period_end == end_before
    # a double click: the same order, charged once
    again = client.post(reverse("portal:addons", args=[line.pk]), form)
    assert again.url == answer.url and Payment.objects.filter(order=order).count() == 1

    page = client.get(answer.url).content.decode()
    assert "Add-on added" in page and "5 GB Data Booster for +1 202-555-0143 is ready to use." in visible_text(page)
    assert "New expiry" not in page and "renewed" not in page and order.receipt.display_number in page
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert "5 GB Data Booster" in detail and "× 1" not in detail and "Valid" in detail
    listing = client.get(reverse("portal:orders")).content.decode()
    assert "5 GB Data Booster" in listing and "5 GB Data Booster × 1" not in listing


def test_buy_a_pass_from_the_wallet(client, world):
    market, plan, booster, customer, line = world
    topup = order_create_topup(customer=customer, market=market, amount=Decimal("15.00"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=topup, token=token, gateway=gateway)
    page = client.get(reverse("portal:addons", args=[line.pk]))
    assert page.context["pay_with"] == "wallet"  # the wallet covers it: offered first
    answer = client.post(reverse("portal:addons", args=[line.pk]), addon_form(client, line, pay_with="wallet"))
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    assert order.payments.get().method == Payment.Method.WALLET


def test_buy_a_pass_with_a_saved_card(client, world):
    market, plan, booster, customer, line = world
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2039, cvc="123")
    method = method_add(customer=customer, gateway=SandboxGateway(), card=card)
    form = addon_form(client, line, pay_with=f"saved-{method.pk}", card="")
    answer = client.post(reverse("portal:addons", args=[line.pk]), form)
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    assert order.payments.get().card_last4 == "4242"


def test_a_declined_card_grants_nothing_and_says_why(client, world):
    market, plan, booster, customer, line = world
    answer = client.post(reverse("portal:addons", args=[line.pk]), addon_form(client, line, card="4000000000009995"))
    assert answer.status_code == 402
    assert "not enough money" in answer.content.decode()
    assert not Bucket.objects.filter(source=Bucket.Source.ADDON).exists()


def test_a_lapsed_line_is_told_to_renew_first(client, world):
    market, plan, booster, customer, line = world
    form = addon_form(client, line)
    lines_lapse_sweep(now=line.period_end + timedelta(hours=1))
    line.refresh_from_db()
    page = client.get(reverse("portal:addons", args=[line.pk])).content.decode()
    assert 'data-testid="addon-not-running"' in page and "Renew the number first" in page
    assert "Buy an add-on" not in client.get(reverse("portal:home")).content.decode()
    answer = client.post(reverse("portal:addons", args=[line.pk]), form)
    assert answer.status_code == 409 and "Renew the number first" in answer.content.decode()
    assert not Order.objects.filter(items__kind=OrderItem.Kind.ADDON).exists()


def test_another_customers_line_is_not_found(client, world):
    market, plan, booster, customer, line = world
    stranger, _ = make_customer("stranger@example.com")
    theirs = make_line(stranger, market, plan, msisdn="+12025550188")
    assert client.get(reverse("portal:addons", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("portal:addon_quote", args=[theirs.pk])).status_code == 404


def split(html: str) -> tuple[str, str] | None:
    """What "wallet first, the rest by card" takes from each, as the price panel shows it."""
    wallet = re.search(r'data-testid="split-wallet"><dt>[^<]*</dt><dd>([^<]*)</dd>', html)
    card = re.search(r'data-testid="split-card"><dt>[^<]*</dt><dd>([^<]*)</dd>', html)
    return (wallet.group(1), card.group(1)) if wallet and card else None


def test_wallet_first_shows_the_split_before_paying(client, world):
    market, plan, booster, customer, line = world
    _, pins = voucher_batch_generate(count=1, face_value="4.00", currency="USD")
    voucher_redeem(pin=pins[0][1], customer=customer)
    page = client.get(reverse("portal:addons", args=[line.pk]), {"plan": "us-data-5gb"}).content.decode()
    # choosing a way to pay re-prices the panel, as on the renew page, and a change of pass keeps the way
    quote_url = reverse("portal:addon_quote", args=[line.pk])
    pay_with = re.search(r'<fieldset class="pay-with"[^>]*>', page).group(0)
    assert f'hx-get="{quote_url}"' in pay_with and "pay_with" in pay_with
    plans = re.search(r'<fieldset class="plans"[^>]*>', page).group(0)
    assert "[name='pay_with']:checked" in plans and "pay_with" in re.search(r'hx-params="([^"]*)"', plans).group(1)
    # the wallet holds less than the pass: "wallet first" is offered first, its split shown at once
    assert re.search(r'value="wallet_card" data-testid="pay-wallet-card" checked', page)
    assert split(page) == ("$4.00", "$6.00")
    panel = client.get(quote_url, {"plan": "us-data-5gb", "pay_with": "wallet_card"}).content.decode()
    assert split(panel) == ("$4.00", "$6.00")
    assert split(client.get(quote_url, {"plan": "us-data-5gb", "pay_with": "card"}).content.decode()) is None
    # without script, "Update price" shows it too
    form = {**addon_form(client, line, pay_with="wallet_card"), "action": "quote"}
    assert split(client.post(reverse("portal:addons", args=[line.pk]), form).content.decode()) == ("$4.00", "$6.00")
    # and paying takes exactly that split
    answer = client.post(reverse("portal:addons", args=[line.pk]), addon_form(client, line, pay_with="wallet_card"))
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    assert sorted(order.payments.values_list("method", "amount")) == [
        ("card", Decimal("6.0000")),
        ("wallet", Decimal("4.0000")),
    ]
