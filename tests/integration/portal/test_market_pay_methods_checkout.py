"""A market's "Ways to pay" setting (issue 28) decides what its checkouts offer and in what order: the
renew page, the add-on page, the wallet top-up and the guest refill list the ways switched on in the
market's order, never one switched off; one posted anyway (a stale page, a hand-made request, the
API) is refused with a clear message before anything is charged. A market without a setting keeps
today's defaults."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.catalog.services import market_pay_methods_update
from refill.domain.payment_methods import FAMILIES
from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_balance
from refill.orders.errors import PayMethodNotOffered
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.payments.selectors import pay_methods_unavailable
from refill.payments.services import method_add
from refill.renewals.gift_pins import gift_pin_refill
from refill.renewals.gifts import GiftRequest
from refill.vouchers.models import Voucher
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db

CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2039, cvc="123")
NEW_CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}
NUMBER = "+12025550143"


def offered(html: str) -> list[str]:
    """The pay_with values in the order a logged-in checkout offers them."""
    return re.findall(r'name="pay_with" value="([^"]+)"', html)


def guest_offered(html: str) -> list[str]:
    return re.findall(r'data-testid="refill-pay-([a-z_]+)"', html)


def set_ways(market, on: list[str]) -> None:
    """The market offers ``on``, in that order; every other way is switched off (the back office's
    service, with a staff member's reason)."""
    ways = [(way, True) for way in on] + [(way, False) for way in FAMILIES if way not in on]
    market_pay_methods_update(
        market=market,
        methods=ways,
        cannot_switch_on=pay_methods_unavailable(),
        actor=make_staff("catalog"),
        reason="test",
    )


def give_wallet(customer, amount: str) -> None:
    _, pins = voucher_batch_generate(count=1, face_value=amount, currency="USD")
    voucher_redeem(pin=pins[0][1], customer=customer)


@pytest.fixture
def us(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    make_plan(market, "us-boost", price="10.00", kind="addon", name_en="5 GB Booster", voice_minutes=0, sms=0)
    customer, user = make_customer("payer@example.com")
    line = make_line(customer, market, plan, msisdn=NUMBER)
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    login(client, user)
    return market, plan, customer, line


@pytest.fixture
def cn():
    market = make_market(
        "cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai",
        tax_rate=Decimal("0.06"), tax_inclusive=True,
    )  # fmt: skip
    plan = make_plan(market, "cn-30day", price="68.00", name_en="China 30-Day")
    return market, plan


def renew_page(client, line) -> str:
    return client.get(reverse("portal:renew", args=[line.pk])).content.decode()


def pay_renewal(client, line, html: str, **fields):
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    form = {"plan": line.plan.code, "periods": 1, "idempotency_key": key, "action": "pay", **fields}
    return client.post(reverse("portal:renew", args=[line.pk]), form)


def test_each_market_lists_its_ways_in_its_own_order(us, cn, client):
    market, plan, customer, line = us
    method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    give_wallet(customer, "30.00")
    set_ways(market, ["saved", "card", "apple_pay", "paypal", "wallet", "wallet_card"])
    saved = f"saved-{customer.payment_methods.get().pk}"
    assert offered(renew_page(client, line)) == [saved, "card", "apple_pay", "paypal", "wallet"]
    # the other market's line follows its own order
    cn_market, cn_plan = cn
    cn_line = make_line(customer, cn_market, cn_plan, msisdn="+8613800138000")
    set_ways(cn_market, ["wechat_pay", "wallet", "alipay", "card"])
    # (an empty CNY wallet is not offered)
    assert offered(renew_page(client, cn_line)) == ["wechat_pay", "alipay", "card"]
    # and so does the add-on page (for a line with a running period)
    running = make_line(customer, market, plan, msisdn="+12025550144")
    renew(running, plan, now=timezone.now() - timedelta(days=10))
    addons = client.get(reverse("portal:addons", args=[running.pk]), {"plan": "us-boost"}).content.decode()
    assert offered(addons) == [saved, "card", "apple_pay", "paypal", "wallet"]


def test_a_market_without_a_setting_keeps_todays_defaults(us, cn, client):
    market, plan, customer, line = us
    assert offered(renew_page(client, line)) == ["card", "apple_pay", "paypal", "alipay", "wechat_pay"]
    cn_market, cn_plan = cn
    cn_line = make_line(customer, cn_market, cn_plan, msisdn="+8613800138000")
    assert offered(renew_page(client, cn_line))[:3] == ["alipay", "wechat_pay", "card"]


def test_a_way_switched_off_is_not_offered_even_as_the_last_used(us, client):
    market, plan, customer, line = us
    give_wallet(customer, "100.00")
    # paid by PayPal last time: normally offered first
    html = renew_page(client, line)
    answer = pay_renewal(client, line, html, pay_with="paypal")
    payment = Payment.objects.get(card_brand="paypal")
    client.post(payment.action_url, {"decision": "approve"})
    client.get(reverse("portal:payment_return", args=[payment.order_id]))
    assert answer.status_code == 302 and offered(renew_page(client, line))[0] == "paypal"
    set_ways(market, ["card", "wallet"])
    assert offered(renew_page(client, line)) == ["card", "wallet"]


def test_a_way_switched_off_posted_anyway_is_refused_and_nothing_is_charged(us, client):
    market, plan, customer, line = us
    give_wallet(customer, "100.00")
    html = renew_page(client, line)  # a page loaded before the market switched PayPal and the wallet off
    end_before = line.period_end
    set_ways(market, ["card"])
    for way in ("paypal", "wallet", "wallet_card"):
        answer = pay_renewal(client, line, html, pay_with=way, **NEW_CARD)
        assert answer.status_code == 409, way
        assert "This way to pay is not offered for this number" in answer.content.decode()
    line.refresh_from_db()
    assert line.period_end == end_before
    assert not Payment.objects.filter(order__line=line).exists()
    assert wallet_balance(customer, "USD") == Decimal("100.00")
    # the way still offered pays
    assert pay_renewal(client, line, html, pay_with="card", **NEW_CARD).status_code == 302
    assert Order.objects.filter(line=line, status=Order.Status.PAID).count() == 1


def test_the_api_refuses_a_way_the_market_switched_off(us, client):
    market, plan, customer, line = us
    set_ways(market, ["wallet", "card"])
    body = {"msisdn": NUMBER, "plan": "us-30day", "periods": 1, "pay_with": "paypal"}
    answer = client.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert answer.status_code == 422 and answer.json()["code"] == "pay_method_not_offered"
    assert not Payment.objects.exists()


def test_the_top_up_offers_only_the_markets_ways_and_refuses_others(us, client):
    market, plan, customer, line = us
    set_ways(market, ["alipay", "card"])
    page = client.get(reverse("portal:wallet")).content.decode()
    assert offered(page) == ["alipay", "card"]
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    answer = client.post(
        reverse("portal:wallet"), {"market": "us", "amount": "20", "idempotency_key": key, "pay_with": "paypal"}
    )
    assert answer.status_code == 400 and not Payment.objects.exists()
    assert wallet_balance(customer, "USD") == Decimal("0.00")


def test_the_guest_refill_follows_the_market_and_refuses_a_way_switched_off(us, client):
    market, plan, customer, line = us
    client.logout()
    set_ways(market, ["paypal", "pin", "card"])
    page = client.post("/refill/", {"msisdn": NUMBER}).content.decode()
    assert guest_offered(page) == ["paypal", "pin", "card"]
    set_ways(market, ["card"])
    page = client.post("/refill/", {"msisdn": NUMBER}).content.decode()
    assert guest_offered(page) == ["card"]
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    _, pins = voucher_batch_generate(count=1, face_value="25.00", currency="USD")
    answer = client.post(
        "/refill/pay/",
        {"msisdn": NUMBER, "idempotency_key": key, "gift": "us-30day", "periods": "1", "pay_with": "pin",
         "pin": pins[0][1]},
    )  # fmt: skip
    assert answer.status_code == 400 and not Order.objects.exists()
    assert Voucher.objects.get().state == Voucher.State.ACTIVE
    # the service refuses a PIN too, before the PIN is looked at (the API's gift refill)
    with pytest.raises(PayMethodNotOffered):
        gift_pin_refill(
            GiftRequest(msisdn=NUMBER, card=None, key="g1", ip="203.0.113.9", plan="us-30day"), pin=pins[0][1]
        )
    assert Voucher.objects.get().state == Voucher.State.ACTIVE and not Order.objects.exists()
