"""The 3-D Secure-style step: redirect to the (sandbox) bank, confirm or decline, return."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import order_pay_card
from refill.orders.settling import payment_resume, payments_reconcile
from refill.payments.models import Payment, SandboxCharge
from refill.subscriptions.models import Period
from tests.factories import card_token, login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db

THREE_DS = "4000000000003162"


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer()
    line = make_line(customer, market, plan)
    login(client, user)
    return plan, customer, line


def test_service_waits_for_the_bank_and_settles_once(world):
    plan, customer, line = world
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="k")
    gateway, token = card_token(THREE_DS)
    payment = order_pay_card(order=order, token=token, gateway=gateway, return_url="/back/")
    assert payment.status == "requires_action" and payment.action_url.startswith("/sandbox/confirm/")
    assert payment_resume(payment=payment).status == "requires_action"  # not confirmed yet
    SandboxCharge.objects.filter(idempotency_key=payment.idempotency_key).update(status="succeeded")
    assert payment_resume(payment=payment).status == "succeeded"
    assert Period.objects.filter(line=line).count() == 1


def test_abandoned_confirmation_is_cancelled_and_a_late_approval_fails(world, client):
    plan, customer, line = world
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="k")
    gateway, token = card_token(THREE_DS)
    payment = order_pay_card(order=order, token=token, gateway=gateway, return_url="/back/")
    assert payments_reconcile() == 0  # the customer may still be at the bank
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=31)) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.decline_code) == ("failed", "authentication_failed")
    client.post(payment.action_url, {"decision": "approve"})
    assert SandboxCharge.objects.get().status == "failed" and not Period.objects.exists()


def _pay_form(client, line, card):
    page = client.get(reverse("portal:renew", args=[line.pk])).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    return {
        "plan": "us-30day",
        "periods": 1,
        "idempotency_key": key,
        "expected_total": total,
        "pay_with": "card",
        "card_number": card,
        "card_expiry": "12/39",
        "card_cvc": "123",
        "action": "pay",
    }


@pytest.mark.parametrize(("decision", "paid"), [("approve", True), ("decline", False)])
def test_web_flow_through_the_bank_page(world, client, decision, paid):
    plan, customer, line = world
    response = client.post(reverse("portal:renew", args=[line.pk]), _pay_form(client, line, "4000 0000 0000 3162"))
    assert response.status_code == 302 and response.url.startswith("/sandbox/confirm/")
    assert "Approve a payment of $25.00" in client.get(response.url).content.decode()
    back = client.post(response.url, {"decision": decision})
    landed = client.get(back.url, follow=True)
    order = Order.objects.get(line=line)
    assert (order.status == "paid") is paid
    page = landed.content.decode()
    if paid:
        assert 'data-testid="confirmation"' in page  # the line's first purchase: its activation (issue 23)
    else:
        assert "did not confirm the payment" in page and Payment.objects.get(order=order).status == "failed"


def test_only_the_payer_sees_the_bank_page(world, client):
    plan, customer, line = world
    response = client.post(reverse("portal:renew", args=[line.pk]), _pay_form(client, line, "4000 0000 0000 3162"))
    other_customer, other = make_customer()
    login(client, other)
    assert client.get(response.url).status_code == 404
    assert client.post(response.url, {"decision": "approve"}).status_code == 404


@pytest.mark.parametrize("provider", ["paypal", "alipay", "wechat_pay", "apple_pay"])
def test_provider_wallets_redirect_and_return(world, client, provider):
    plan, customer, line = world
    form = _pay_form(client, line, "")
    form.update({"pay_with": provider, "card_number": "", "card_expiry": "", "card_cvc": ""})
    response = client.post(reverse("portal:renew", args=[line.pk]), form)
    assert response.status_code == 302 and response.url.startswith("/sandbox/confirm/")
    names = {"paypal": "PayPal", "alipay": "Alipay", "wechat_pay": "WeChat Pay", "apple_pay": "Apple Pay"}
    assert f"with {names[provider]}?" in client.get(response.url).content.decode()
    landed = client.get(client.post(response.url, {"decision": "approve"}).url, follow=True)
    assert 'data-testid="confirmation"' in landed.content.decode()
    order = Order.objects.get(line=line)
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert names[provider] in detail
    payment = order.payments.get()
    assert payment.card_brand == provider and payment.card_last4 == ""


@pytest.mark.parametrize(("language", "title"), [("en", "Pay with Alipay"), ("zh-hans", "使用支付宝付款")])
def test_a_provider_wallets_page_is_titled_with_the_provider_not_the_bank(world, client, language, title):
    plan, customer, line = world
    form = _pay_form(client, line, "")
    form.update({"pay_with": "alipay", "card_number": "", "card_expiry": "", "card_cvc": ""})
    response = client.post(reverse("portal:renew", args=[line.pk]), form)
    customer.preferred_language = language
    customer.save(update_fields=["preferred_language"])
    client.cookies["django_language"] = language
    page = client.get(response.url).content.decode()
    head = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert title in head
    assert "bank" not in head and "银行" not in head


def test_cancelled_at_the_provider_changes_nothing(world, client):
    plan, customer, line = world
    form = _pay_form(client, line, "")
    form.update({"pay_with": "paypal", "card_number": "", "card_expiry": "", "card_cvc": ""})
    response = client.post(reverse("portal:renew", args=[line.pk]), form)
    client.post(response.url, {"decision": "decline"})
    client.get(reverse("portal:payment_return", args=[Order.objects.get(line=line).pk]))
    assert not Period.objects.exists() and Order.objects.get(line=line).status == "awaiting_payment"


def test_a_decline_in_a_payment_app_is_told_as_that_app_not_as_a_bank(world, client):
    plan, customer, line = world
    form = _pay_form(client, line, "")
    form.update({"pay_with": "alipay", "card_number": "", "card_expiry": "", "card_cvc": ""})
    response = client.post(reverse("portal:renew", args=[line.pk]), form)
    client.post(response.url, {"decision": "decline"})
    order = Order.objects.get(line=line)
    client.get(reverse("portal:payment_return", args=[order.pk]))
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert "The payment was not completed in Alipay" in detail
    assert "Your bank did not confirm" not in detail and "another card" not in detail
