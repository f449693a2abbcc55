"""Chinese sentences around names (new user on a phone, Dec 2026): no stray spaces between Chinese
words (是否使用支付宝向 Refill 支付), and a name that starts with a number or Latin letters does not
stick to the Chinese before it ("的5GB"): the name is quoted, as the catalog quotes names elsewhere."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order, OrderItem
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import SandboxCharge
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db

GB = 1024


def _speaking(client, user, language):
    login(client, user)
    client.post(reverse("portal:set_language"), {"language": language})


@pytest.mark.parametrize(
    ("language", "wallet", "sentence"),
    [
        ("zh-hans", "alipay", "是否使用支付宝向 Refill 支付 US$25.00？"),
        ("zh-hans", "wechat_pay", "是否使用微信支付向 Refill 支付 US$25.00？"),
        ("zh-hans", "paypal", "是否使用 PayPal 向 Refill 支付 US$25.00？"),
        ("en", "alipay", "Pay $25.00 to Refill with Alipay?"),
    ],
)
def test_the_sandbox_payment_app_page_reads_naturally(client, language, wallet, sentence):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    customer, user = make_customer("app@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="app")
    payment = order_pay(order=order, pay_with=PayWith(provider_wallet=wallet), return_url="/")
    charge = SandboxCharge.objects.get(idempotency_key=payment.idempotency_key)
    _speaking(client, user, language)
    page = client.get(reverse("sandbox_confirm", args=[charge.reference])).content.decode()
    assert sentence in visible_text(page)


def test_the_chinese_addon_confirmation_does_not_glue_the_pass_name_to_chinese(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
              name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip
    customer, user = make_customer("pass@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    renew(line, plan, now=timezone.now() - timedelta(days=10))
    _speaking(client, user, "zh-hans")
    page = client.get(reverse("portal:addons", args=[line.pk]), {"plan": "us-data-5gb"}).content.decode()
    form = {
        "plan": "us-data-5gb",
        "idempotency_key": re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1),
        "expected_total": re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1),
        "pay_with": "card", "card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123",
        "action": "pay",
    }  # fmt: skip
    # two sentences in a row: no space after the Chinese full stop
    assert "结束时到期。它会增加" in visible_text(page)
    answer = client.post(reverse("portal:addons", args=[line.pk]), form)
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302
    text = visible_text(client.get(reverse("portal:order_confirmation", args=[order.pk])).content.decode())
    assert "的5GB" not in text
    assert "+1 202-555-0143 的“5GB 流量加油包”已可使用。" in text
