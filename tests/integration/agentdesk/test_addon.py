"""Selling an add-on pass at the counter, for cash or by card, exactly as a renewal is sold: the
verified line only, one order per form, the sale tied to the shop with the pass's commission, the
cash owed by the agent's drawer, and the receipt naming the pass and until when it lasts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.agentdesk.models import CommissionRate, ShopSale
from refill.audit.models import AuditEvent
from refill.ledger.models import Account
from refill.ledger.services import account_balance, account_for
from refill.lines.services import lines_lapse_sweep
from refill.orders.models import Order, OrderItem
from refill.payments.models import Payment, PaymentMethod
from refill.subscriptions.models import Bucket
from tests.factories import make_plan, renew
from tests.pagetext import visible_text

from .conftest import verify_by_pin

pytestmark = pytest.mark.django_db

GB = 1024


@pytest.fixture
def booster(market):
    return make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
                     name_en="5 GB Data Booster", name_zh_hans="5GB 流量加油包")  # fmt: skip


@pytest.fixture
def running(customer_line, plan):
    customer, line = customer_line
    renew(line, plan, now=timezone.now() - timedelta(days=5))
    return customer, line


def sell(client, line, *, pay="cash", key="addon-form-1", total="10.00", plan="us-data-5gb"):
    data = {"plan": plan, "action": pay, "idempotency_key": key, "expected_total": total}
    if pay == "card":
        data.update(card_number="4242 4242 4242 4242", card_expiry="12/39", card_cvc="123")
    return client.post(reverse("agentdesk:addon", args=[line.pk]), data)


def test_an_unverified_line_cannot_be_sold_a_pass(client, agent, running, booster):
    customer, line = running
    assert client.get(reverse("agentdesk:addon", args=[line.pk])).status_code == 403
    answer = sell(client, line)
    assert answer.status_code == 403 and "Verify the customer first" in answer.content.decode()
    assert not Order.objects.filter(items__kind=OrderItem.Kind.ADDON).exists()


def test_the_counter_offers_the_passes_at_their_price(client, agent, running, booster):
    customer, line = running
    verify_by_pin(client, line)
    desk = client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn}).content.decode()
    assert reverse("agentdesk:addon", args=[line.pk]) in desk and "Sell an add-on" in desk
    page = client.get(reverse("agentdesk:addon", args=[line.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "5 GB Data Booster" in body and "Take $10.00 in cash" in body
    assert page.context["quote"].valid_until == line.period_end  # it ends with the running period


def test_sell_a_pass_for_cash(client, agent, running, booster):
    customer, line = running
    CommissionRate.objects.create(plan=booster, percent=Decimal("10.00"), amount=Decimal("0.25"))
    verify_by_pin(client, line)
    end_before = line.period_end
    answer = sell(client, line)
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302 and answer["Location"] == reverse("agentdesk:receipt", args=[order.pk])
    assert order.status == Order.Status.PAID and order.total == Decimal("10.00")
    payment = order.payments.get()
    assert payment.method == Payment.Method.CASH and payment.gateway == f"agent-{agent.pk}"
    drawer = account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")
    assert account_balance(drawer) == Decimal("10.00")
    sale = ShopSale.objects.get(order=order)
    assert sale.shop.code == "main-st" and sale.agent == agent
    assert sale.commission == Decimal("1.25")  # 10 % of 10.00, plus 0.25
    bucket = Bucket.objects.get(order_item__order=order)
    assert (bucket.kind, bucket.granted, bucket.expires_at) == ("data", 5 * GB, end_before)
    line.refresh_from_db()
    assert line.period_end == end_before
    assert AuditEvent.objects.filter(action="order.create", object_id=str(order.pk), actor=agent).exists()
    # a double click or a resent form: one order, one payment
    sell(client, line)
    assert Order.objects.filter(items__kind=OrderItem.Kind.ADDON).count() == 1 and order.payments.count() == 1

    receipt = client.get(answer["Location"]).content.decode()
    assert "5 GB Data Booster added to +1 202-555-0143: $10.00 paid" in receipt
    assert "5 GB Data Booster" in receipt and "× 1" not in receipt and "Valid" in receipt
    a4 = client.get(reverse("agentdesk:receipt_a4", args=[order.pk]))
    assert a4.status_code == 200 and "5 GB Data Booster" in a4.content.decode()
    statement = client.get(reverse("agentdesk:commission")).content.decode()
    assert "$1.25" in statement and "5 GB Data Booster" in statement


def test_sell_a_pass_by_card(client, agent, running, booster):
    customer, line = running
    verify_by_pin(client, line)
    answer = sell(client, line, pay="card")
    order = Order.objects.get(customer=customer, items__kind=OrderItem.Kind.ADDON)
    assert answer.status_code == 302 and order.status == Order.Status.PAID
    payment = order.payments.get()
    assert payment.method == Payment.Method.CARD and payment.status == Payment.Status.SUCCEEDED
    assert not PaymentMethod.objects.filter(customer=customer).exists()  # nothing saved
    assert ShopSale.objects.filter(order=order, commission=0).exists()  # no rate for this pass
    drawer = account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")
    assert account_balance(drawer) == 0
    assert "4242" not in visible_text(client.get(answer["Location"]).content)


def test_a_lapsed_line_is_refused_at_the_counter(client, agent, running, booster):
    customer, line = running
    lines_lapse_sweep(now=line.period_end + timedelta(hours=1))
    verify_by_pin(client, line)
    page = client.get(reverse("agentdesk:addon", args=[line.pk])).content.decode()
    assert "Renew the number first" in page
    answer = sell(client, line)
    assert answer.status_code == 409 and "Renew the number first" in answer.content.decode()
    assert not Order.objects.filter(items__kind=OrderItem.Kind.ADDON).exists()


def test_the_price_follows_the_pass_chosen_and_the_wallet_pays(client, agent, running, booster, market):
    from refill.ledger.services import wallet_adjust, wallet_balance

    customer, line = running
    make_plan(market, "us-data-1gb", kind="addon", price="3.00", data_mb=GB, voice_minutes=0, sms=0,
              name_en="1 GB Data Booster", name_zh_hans="1GB 流量加油包")  # fmt: skip
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("12.00"), reason="goodwill", key="gw-addon")
    verify_by_pin(client, line)
    url = reverse("agentdesk:addon_price", args=[line.pk])
    small = client.get(url, {"plan": "us-data-1gb"}).content.decode()
    assert "Take $3.00 in cash" in small and "Pay $3.00 from the wallet" in small and 'hx-swap-oob="true"' in small
    page = client.get(reverse("agentdesk:addon", args=[line.pk])).content.decode()
    assert f'hx-get="{url}"' in page
    # Without script: the $10 pass pressed with the $3 pass's price is re-quoted, nothing taken.
    repriced = sell(client, line, total="3.00")
    assert repriced.status_code == 200 and 'data-testid="price-confirm"' in repriced.content.decode()
    assert not Order.objects.filter(items__kind=OrderItem.Kind.ADDON).exists()
    paid = sell(client, line, pay="wallet")
    assert paid.status_code == 302
    order = Order.objects.get(items__kind=OrderItem.Kind.ADDON)
    assert order.payments.get().method == Payment.Method.WALLET and wallet_balance(customer, "USD") == Decimal("2.00")
