"""What a Chinese reader sees where money, dates and a line's state are read closely (issue 23,
item 10): pages, receipts, emails and SMS rendered in zh-hans say the right thing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import make_password
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from refill.orders.models import Order
from refill.orders.receipts import receipt_context
from refill.payments.models import Payment, PaymentMethod
from refill.portal.templatetags.refill_format import when
from refill.renewals.models import RenewalAttempt
from refill.support import services as support
from refill.support.models import Ticket
from tests.factories import (
    login,
    make_30day_plan,
    make_customer,
    make_line,
    make_market,
    make_plan,
    make_promotion,
    renew,
)
from tests.integration.agentdesk.conftest import SHOP_PIN, make_agent, make_shop, renew_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese(client):
    """A signed-in customer who reads Chinese, with a US line."""
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer("li@example.com", language="zh-hans", tz="Asia/Shanghai")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    login(client, user)
    return customer, user, line


def _page(client, name, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans"' in page.lower()
    return page


# --- one word, two meanings ----------------------------------------------------------------------


def test_a_closed_support_request_reads_closed_not_settlement_time(client, chinese):
    customer, user, _line = chinese
    ticket = support.ticket_create(
        customer=customer, user=user, category="other", subject="网络问题", body="无法上网", files=[],
        language="zh-hans", line=None,
    ).ticket  # fmt: skip
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CLOSED)
    page = _page(client, "support:tickets")
    assert "已关闭" in page and "结算时间" not in page


def test_the_redeem_page_labels_the_pin_field_as_the_cards_pin(client, chinese):
    page = _page(client, "portal:redeem")
    assert "充值卡密码" in page


# --- line states ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "days", "term"), [("grace", 2, "宽限期"), ("suspended", 10, "已停机"), ("deactivated", 70, "预销户")]
)
def test_the_line_card_names_each_state_with_one_term(client, chinese, status, days, term):
    from refill.lines.models import Line

    _customer, _user, line = chinese
    Line.objects.filter(pk=line.pk).update(status=status, period_end=timezone.now() - timedelta(days=days))
    card = _page(client, "portal:home")
    guidance = card[card.index('data-testid="status-guidance"') :][:600]
    assert term in card and term in guidance
    for wrong in ("注销", "暂停", "停用"):
        assert wrong not in guidance


def test_the_suspension_email_never_says_the_number_is_cancelled():
    with translation.override("zh-hans"):
        text = render_to_string(
            "notifications/suspended.txt",
            {"line": SimpleNamespace(msisdn="+12025550143"), "until": datetime(2027, 1, 5, tzinfo=UTC),
             "renew_url": "https://refill.example/lines/1/renew/"},
        )  # fmt: skip
    assert "已停机" in text and "预销户" in text and "注销" not in text


# --- 续费 and 充值 -------------------------------------------------------------------------------


def test_the_gift_sms_says_the_number_was_renewed_not_topped_up():
    with translation.override("zh-hans"):
        sms = render_to_string(
            "notifications/gift_received_sms.txt",
            {"line": SimpleNamespace(msisdn="+12025550143", period_end=datetime(2027, 1, 5, tzinfo=UTC)),
             "item": SimpleNamespace(kind="renewal"), "order": SimpleNamespace(total=Decimal(25), currency="USD")},
        )  # fmt: skip
        subject = render_to_string(
            "notifications/gift_received_subject.txt", {"line": SimpleNamespace(msisdn="+12025550143")}
        )
    assert "续费" in sms and "充值" not in sms
    assert "续费" in subject and "充值" not in subject


def test_a_cash_renewal_is_paid_with_shop_cash_on_the_receipt(chinese):
    _customer, _user, line = chinese
    order, _payment = renew(line, line.plan)
    context = receipt_context(order)
    context["paid_with"] = [Payment(method=Payment.Method.CASH, amount=order.total, currency="USD")]
    with translation.override("zh-hans"):
        receipt = render_to_string("receipts/receipt.html", context)
    assert "门店现金" in receipt and "充值" not in receipt


def test_the_insufficient_funds_decline_on_the_auto_renew_page_speaks_of_the_bank_card(client, chinese):
    _customer, _user, line = chinese
    RenewalAttempt.objects.create(
        line=line, cycle_end=timezone.now(), number=1, due_at=timezone.now() - timedelta(hours=1),
        status=RenewalAttempt.Status.FAILED, reason="insufficient_funds",
    )  # fmt: skip
    page = _page(client, "portal:auto_renew", line.pk)
    reason = page[page.index('data-testid="attempt-reason"') :][:200]
    assert "insufficient_funds" not in page
    assert "银行卡余额不足" in reason and "充值" not in reason


# --- English on a Chinese page -------------------------------------------------------------------


def test_the_signed_in_message_is_in_the_customers_language():
    customer, _user = make_customer("wang@example.com", language="zh-hans")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")  # an English browser; the customer chose Chinese
    response = browser.post(
        reverse("account_login"), {"login": "wang@example.com", "password": "secret-pass-1234"}, follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200 and '<html lang="zh-hans"' in page.lower()
    assert "Successfully signed in" not in page and "成功登录" in page


def test_over_cap_and_skipped_attempts_are_explained_not_coded(client, chinese):
    _customer, _user, line = chinese
    for number, (status, reason) in enumerate([("over_cap", "renewal_cap"), ("skipped", "already_renewed")], 1):
        RenewalAttempt.objects.create(
            line=line, cycle_end=timezone.now(), number=number, due_at=timezone.now() - timedelta(hours=number),
            status=status, reason=reason,
        )  # fmt: skip
    page = _page(client, "portal:auto_renew", line.pk)
    assert "renewal_cap" not in page and "already_renewed" not in page
    assert "单次续费上限" in page and "已经续费" in page


def test_provider_wallets_are_named_in_chinese_on_saved_methods_and_receipts(client, chinese):
    customer, _user, line = chinese
    PaymentMethod.objects.create(customer=customer, gateway="sandbox", token="tok_wallet_alipay", brand="alipay")
    PaymentMethod.objects.create(customer=customer, gateway="sandbox", token="tok_wallet_wechat", brand="wechat_pay")
    page = _page(client, "portal:payment_methods")
    assert "支付宝" in page and "微信支付" in page and "Alipay" not in page and "WeChat Pay" not in page
    order, _payment = renew(line, line.plan)
    context = receipt_context(order)
    context["paid_with"] = [
        Payment(method=Payment.Method.CARD, card_brand="wechat_pay", amount=order.total, currency="USD")
    ]
    with translation.override("zh-hans"):
        receipt = render_to_string("receipts/receipt.html", context)
        counter = render_to_string("agentdesk/_receipt_body.html", {**context, "shop": None})
    assert "微信支付" in receipt and "WeChat Pay" not in receipt
    # A provider wallet is not a card: the counter's receipt names it alone.
    assert "微信支付" in counter and "银行卡 微信支付" not in counter


def test_markets_are_named_in_the_readers_language():
    us = make_market()
    cn = make_market("cn", name="Mainland China", name_zh_hans="中国大陆", region="CN", currency="CNY",
                     time_zone="Asia/Shanghai")  # fmt: skip
    context = {"markets": [us, cn], "market": us, "in_stock": True, "plans": []}
    with translation.override("zh-hans"):
        page = render_to_string("portal/line_new.html", context)
        assert (str(us), str(cn)) == ("美国", "中国大陆")
    assert "美国" in page and "中国大陆" in page and "United States" not in page
    with translation.override("en"):
        assert (str(us), str(cn)) == ("United States", "Mainland China")


def test_labels_and_their_colons_are_translated_together(client, chinese):
    _customer, _user, line = chinese
    renew(line, line.plan)  # an active line (a pending one's page is its activation)
    # The add-on page says it in a sentence (the renew page marks the current plan in its list).
    page = _page(client, "portal:addons", line.pk)
    assert "当前套餐：30天套餐" in page and "当前套餐:" not in page, page[page.find("当前套餐") - 200 :][:400]


# --- tax and time zones --------------------------------------------------------------------------


@pytest.fixture
def china():
    market = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai",
                         tax_rate=Decimal("0.06"), tax_inclusive=True)  # fmt: skip
    plan = make_plan(market, "cn-month", price="50.00", name_en="Monthly", name_zh_hans="月套餐")
    customer, _user = make_customer("zhang@example.com", language="zh-hans", tz="Asia/Shanghai")
    return make_line(customer, market, plan, msisdn="+8613800138000")


def _receipt(order, language, zone) -> str:
    with translation.override(language), timezone.override(zone):
        return render_to_string("receipts/receipt.html", receipt_context(order))


def test_the_receipt_shows_the_tax_rate_as_a_percentage_and_the_amount(china):
    order, _payment = renew(china, china.plan)
    receipt = _receipt(order, "zh-hans", "Asia/Shanghai")
    assert "含税 6%" in receipt and "0.0600" not in receipt and "¥2.83" in receipt
    us_line = make_line(make_customer()[0], make_market(), make_plan(make_market(), "us-day", price="7.00"))
    us_order, _payment = renew(us_line, us_line.plan)
    english = _receipt(us_order, "en", "America/New_York")
    assert "Tax 0%" in english and "Tax (0)" not in english


def test_times_name_the_zone_as_people_say_it(china):
    moment = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    with translation.override("zh-hans"), timezone.override("Asia/Shanghai"):
        chinese_text = when(moment)
    with translation.override("en"), timezone.override("Asia/Shanghai"):
        english_text = when(moment)
    with translation.override("en"), timezone.override("America/Chicago"):
        chicago = when(moment)
    # issue 26: the zone as people say it, next to a local time ("北京时间 10:30", "10:30 am Beijing time")
    assert chinese_text.endswith("北京时间 10:30") and "CST" not in chinese_text
    assert english_text.endswith("10:30 am Beijing time")
    assert chicago.endswith("8:30 pm Central time") and "CST" not in chicago
    order, _payment = renew(china, china.plan)
    assert "北京时间" in _receipt(order, "zh-hans", "Asia/Shanghai")


# --- the shop's receipt ---------------------------------------------------------------------------


def test_the_shop_receipt_names_the_promotion_in_the_customers_language(client):
    market = make_market()
    plan = make_30day_plan(market)
    make_promotion(market, name_en="Holiday offer", name_zh_hans="节日优惠")
    customer, _user = make_customer("chen@example.com", language="zh-hans")
    customer.shop_pin_hash = make_password(SHOP_PIN)
    customer.save()
    line = make_line(customer, market, plan, msisdn="+12025550143")
    login(client, make_agent(make_shop(market)))
    verify_by_pin(client, line)
    renew_at_counter(client, line, plan, total="22.50")
    order = Order.objects.get(customer=customer)
    page = client.get(reverse("agentdesk:receipt", args=[order.pk])).content.decode()
    assert 'lang="zh-Hans"' in page and "节日优惠" in page and "Holiday offer" not in page
