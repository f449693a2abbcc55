"""A new user's findings after issue 23 (h13): the new-number page starts in the customer's own
market, the same rule as the wallet top-up's currency."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.lines.models import PoolNumber
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.pagetext import visible_text

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


def test_a_wallet_top_up_in_the_orders_list_has_no_empty_number(client):
    from decimal import Decimal

    from refill.orders.paying import order_pay_card
    from refill.orders.topups import order_create_topup
    from tests.factories import card_token

    us = make_market("us")
    customer, user = make_customer()
    topup = order_create_topup(customer=customer, market=us, amount=Decimal("20.00"), idempotency_key="t")
    gateway, token = card_token()
    order_pay_card(order=topup, token=token, gateway=gateway)
    login(client, user)
    page = visible_text(client.get("/orders/").content.decode())
    assert "Wallet top-up" in page
    assert "· ·" not in page and "··" not in page.replace(" ", "")


@pytest.mark.parametrize(
    ("language", "name"), [("en", "Holiday bonus: 10 GB extra"), ("zh-hans", "假日赠送 10 GB 流量")]
)
def test_a_promotion_whose_name_says_its_bonus_is_said_once(language, name):
    from django.utils import translation

    from refill.promotions.models import Promotion, Redemption
    from refill.promotions.texts import promotion_line

    promotion = Promotion(code="holiday", name_en="Holiday bonus: 10 GB extra", name_zh_hans="假日赠送 10 GB 流量")
    redemption = Redemption(promotion=promotion, discount=0, bonus_data_mb=10240, bonus_voice_minutes=0, bonus_sms=0)
    with translation.override(language):
        line = promotion_line(redemption)
        assert line.name == name and line.gives == []
        # a name that does not say it still gets the phrase
        promotion.name_en = promotion.name_zh_hans = "Holiday"
        assert len(promotion_line(redemption).gives) == 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_welcome_email_links_to_the_esim_install_and_the_line(settings, mailoutbox, language):
    from refill.notifications.services import order_confirmation_send
    from tests.factories import renew

    settings.REFILL_PUBLIC_URL = "https://refill.example.net"
    us = make_market("us")
    plan = make_plan(us, "us-month")
    customer, _ = make_customer(language=language)
    line = make_line(customer, us, plan)
    order, _ = renew(line, plan)
    mailoutbox.clear()
    order_confirmation_send(order_id=order.pk)
    mail = mailoutbox[-1]
    html = mail.alternatives[0][0]
    esim = f"https://refill.example.net/lines/{line.pk}/esim/"
    assert esim in mail.body and f'href="{esim}"' in html
    assert "https://refill.example.net/lines/" in mail.body and 'href="https://refill.example.net/lines/"' in html
    assert "127.0.0.1" not in mail.body


def _cards(customer, *, backup: bool = True):
    from refill.payments.models import PaymentMethod

    PaymentMethod.objects.create(
        customer=customer, gateway="sandbox", token="t1", brand="visa", last4="4242", exp_month=12, exp_year=2039,
        is_default=True,
    )  # fmt: skip
    if backup:
        PaymentMethod.objects.create(
            customer=customer, gateway="sandbox", token="t2", brand="mastercard", last4="4444", exp_month=11,
            exp_year=2039, is_backup=True,
        )  # fmt: skip


def test_the_auto_renew_page_names_the_cards(client):
    us = make_market("us")
    customer, user = make_customer()
    line = make_line(customer, us, make_plan(us))
    _cards(customer)
    login(client, user)
    page = client.get(f"/lines/{line.pk}/auto-renew/").content.decode()
    text = visible_text(page)
    assert "Then charge my default card (Visa •••• 4242)" in text
    assert "If that fails, charge my backup card (Mastercard •••• 4444)" in text
    backup = next(tag for tag in page.split("<input") if 'name="use_backup_method"' in tag)
    assert "checked" not in backup.split(">")[0]


def test_a_single_default_card_is_not_offered_as_backup(client):
    customer, user = make_customer()
    _cards(customer, backup=False)
    login(client, user)
    page = client.get("/payment-methods/").content.decode()
    assert 'data-testid="method-default"' in page
    assert 'data-testid="make-backup"' not in page


def test_a_line_never_paid_offers_to_pay_and_activate_not_to_renew(client):
    market = make_market("us")
    plan = make_plan(market, "us-30day")
    customer, user = make_customer()
    make_line(customer, market, plan, msisdn="+12025550187")  # a new line: pending until paid
    active = make_line(customer, market, plan, msisdn="+12025550143")
    active.status, active.period_end = "active", timezone.now() + timezone.timedelta(days=5)
    active.save(update_fields=["status", "period_end"])
    login(client, user)
    page = client.get(reverse("portal:home")).content.decode()
    buttons = re.findall(r'data-testid="renew">([^<]+)</a>', page)
    assert sorted(buttons) == ["Pay and activate", "Renew"], buttons
