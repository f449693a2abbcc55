"""Alipay and WeChat Pay through Stripe's PaymentIntents, against localstripe with Refill's extension
for the two methods (tests/localstripe_server.py): create, the customer sent on (Alipay's page, or
WeChat Pay's QR code on Refill's own page), back and paid; refused, expired, abandoned; an answer
lost and reconciled; a retry that charges nothing more."""

import re
import time
import urllib.error
from datetime import timedelta

import pytest
import stripe
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from refill.integrations.payments.base import DeclineCode
from refill.integrations.payments.stripe_gateway import StripeGateway
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import PaymentInProgress
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay, order_pay_card
from refill.orders.settling import payments_reconcile
from refill.payments.gateways import gateway_for
from refill.payments.models import Payment, ProviderEvent
from refill.payments.services import provider_event_process, wallet_tokenize
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.localstripe_server import LocalStripe

pytestmark = pytest.mark.django_db
RETURN = "https://refill.example/orders/{}/payment-return/"


@pytest.fixture(scope="module")
def localstripe():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def gateway(localstripe):
    with override_settings(
        REFILL_PAYMENT_GATEWAY="stripe",
        REFILL_STRIPE_SECRET_KEY=LocalStripe.SECRET_KEY,
        REFILL_STRIPE_WEBHOOK_SECRET="whsec_wallets",
        REFILL_STRIPE_API_BASE=localstripe.url,
    ):
        yield gateway_for()


@pytest.fixture
def customer_order():
    market = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plan = make_plan(market, "cn-30", price="68.00")
    customer, user = make_customer(email="wallets@example.com", language="zh-hans")
    line = make_line(customer, market, plan, msisdn="+8613912345678")
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o-wallets")
    return order, user


@pytest.fixture
def order(customer_order):
    return customer_order[0]


def periods(order: Order) -> int:
    return Period.objects.filter(order_item__order=order).count()


def pay(order: Order, method: str, return_url: str | None = None) -> Payment:
    return order_pay(
        order=order, pay_with=PayWith(provider_wallet=method), return_url=return_url or RETURN.format(order.pk)
    )


def intent(gateway: StripeGateway, payment: Payment):
    return gateway.client.v1.payment_intents.retrieve(payment.provider_reference).to_dict()


def test_stripe_takes_exactly_alipay_and_wechat_pay_as_wallets(gateway):
    assert gateway.capabilities.wallets == ("alipay", "wechat_pay")
    for method in ("alipay", "wechat_pay"):
        taken_by, token = wallet_tokenize(method=method)
        assert taken_by is gateway and token.brand == method and token.last4 == ""


def test_alipay_sends_the_customer_to_alipay_and_back_paid(gateway, localstripe, customer_order, client):
    order, user = customer_order
    payment = pay(order, "alipay", return_url=f"http://testserver{reverse('portal:payment_return', args=[order.pk])}")
    # The attempt is recorded with Stripe's reference before the customer leaves, and waits for them.
    assert payment.status == Payment.Status.REQUIRES_ACTION and payment.card_brand == "alipay"
    assert payment.provider_reference.startswith("pi_")
    assert payment.action_url == f"{localstripe.url}/_config/refill/alipay/{payment.provider_reference}"
    sent = intent(gateway, payment)
    assert sent["payment_method_types"] == ["alipay"] and sent["metadata"]["refill_key"] == payment.idempotency_key
    assert (sent["amount"], sent["currency"]) == (6800, "cny")
    assert sent["next_action"]["type"] == "alipay_handle_redirect"
    assert sent["next_action"]["alipay_handle_redirect"]["return_url"].endswith(f"/orders/{order.pk}/payment-return/")

    localstripe.wallet_pays("alipay", payment.provider_reference, "succeeded")
    login(client, user)
    answer = client.get(reverse("portal:payment_return", args=[order.pk]))
    assert answer.status_code == 302 and answer.url == reverse("portal:order_confirmation", args=[order.pk])
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
    assert intent(gateway, payment)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("method", "outcome"), [("alipay", "failed"), ("wechat_pay", "failed"), ("wechat_pay", "expired")]
)
def test_a_payment_refused_or_expired_in_the_app_changes_nothing_and_says_so(
    gateway, localstripe, customer_order, client, method, outcome
):
    order, user = customer_order
    payment = pay(order, method)
    localstripe.wallet_pays(method, payment.provider_reference, outcome)
    login(client, user)
    answer = client.get(reverse("portal:payment_return", args=[order.pk]), follow=True)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and order.status == Order.Status.AWAITING_PAYMENT
    assert payment.decline_code == (
        DeclineCode.AUTHENTICATION_FAILED if outcome == "expired" else DeclineCode.DO_NOT_HONOUR
    )
    assert periods(order) == 0
    page = answer.content.decode()
    assert 'data-testid="try-again"' in page
    # Named as the app, never "your bank" or "another card".
    assert "支付宝" in page or "微信支付" in page


def test_wechat_pay_shows_its_qr_code_on_refills_page_and_the_page_follows_the_payment(
    gateway, localstripe, customer_order, client
):
    order, user = customer_order
    payment = pay(order, "wechat_pay")
    assert payment.status == Payment.Status.REQUIRES_ACTION
    # Stripe shows no page of its own here: the customer comes to Refill's return address.
    assert payment.action_url == RETURN.format(order.pk)
    action = intent(gateway, payment)["next_action"]
    assert action["type"] == "wechat_pay_display_qr_code"
    data = action["wechat_pay_display_qr_code"]["data"]
    assert data.startswith("weixin://")

    login(client, user)
    page = client.get(reverse("portal:payment_return", args=[order.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="pay-qr-code"' in html and "<svg" in html and "<img" not in html
    assert f'href="{data}"' in html  # the button that opens WeChat on a phone
    status_url = reverse("portal:payment_status", args=[order.pk])
    assert f'hx-get="{status_url}"' in html

    # While nobody has paid, the status answers "still waiting" (and keeps asking).
    waiting = client.get(status_url, headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and 'data-testid="pay-qr-waiting"' in waiting.content.decode()
    assert "HX-Redirect" not in waiting

    localstripe.wallet_pays("wechat_pay", payment.provider_reference, "succeeded")
    done = client.get(status_url, headers={"HX-Request": "true"})
    assert done["HX-Redirect"] == reverse("portal:order_confirmation", args=[order.pk])
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and periods(order) == 1
    # Without script the same address redirects.
    assert client.get(status_url).url == reverse("portal:order_confirmation", args=[order.pk])


def test_choosing_another_way_cancels_the_qr_payment_so_a_late_scan_cannot_charge(
    gateway, localstripe, customer_order, client
):
    order, user = customer_order
    payment = pay(order, "wechat_pay")
    login(client, user)
    answer = client.post(reverse("portal:payment_cancel", args=[order.pk]))
    assert answer.url == reverse("portal:order_detail", args=[order.pk])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert intent(gateway, payment)["status"] == "canceled"
    # Paying another way is possible at once.
    again = pay(order, "alipay")
    assert again.pk != payment.pk and again.status == Payment.Status.REQUIRES_ACTION


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_an_abandoned_payment_is_cancelled_so_paying_later_cannot_charge(gateway, localstripe, order, method):
    payment = pay(order, method)
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - timedelta(hours=1))
    assert payments_reconcile() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and order.status == Order.Status.AWAITING_PAYMENT
    assert intent(gateway, payment)["status"] == "canceled"
    with pytest.raises(urllib.error.HTTPError):  # the stand-in, like Stripe, refuses to pay a cancelled intent
        localstripe.wallet_pays(method, payment.provider_reference, "succeeded")
    assert periods(order) == 0


class LostConfirm(StripeGateway):
    """The network drops the answer to ``confirm`` after Stripe confirmed the intent."""

    def __init__(self, base: StripeGateway) -> None:
        self.__dict__.update(base.__dict__)
        self._intents = self.client.v1.payment_intents
        self._real = self._intents.confirm

        def lost(*args, **kwargs):
            self._real(*args, **kwargs)
            raise stripe.APIConnectionError("connection reset")

        self._intents.confirm = lost

    def restore(self) -> None:
        self._intents.confirm = self._real


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_a_lost_answer_is_reconciled_and_the_customer_can_still_pay(
    gateway, localstripe, customer_order, client, method
):
    order, user = customer_order
    flaky = LostConfirm(gateway)
    try:
        _, token = wallet_tokenize(method=method)
        payment = order_pay_card(order=order, token=token, gateway=flaky, return_url=RETURN.format(order.pk))
    finally:
        flaky.restore()
    assert payment.status == Payment.Status.UNKNOWN and payment.provider_reference.startswith("pi_")
    # No second attempt while the first is unknown (a double click, a retry).
    with pytest.raises(PaymentInProgress):
        pay(order, method)
    # Reconciliation asks Stripe: still waiting for the customer, so the attempt waits again.
    payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REQUIRES_ACTION
    # The order's page offers to go on: Alipay's page, or Refill's QR page for WeChat Pay.
    login(client, user)
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    going_on = payment.action_url or reverse("portal:payment_return", args=[order.pk])
    assert f'href="{going_on}" data-testid="continue-bank"' in detail
    if method == "wechat_pay":
        assert 'data-testid="pay-qr-code"' in client.get(going_on).content.decode()
    localstripe.wallet_pays(method, payment.provider_reference, "succeeded")
    # The next round (the customer never came back to the return page) settles it.
    Payment.objects.filter(pk=payment.pk).update(next_check_at=None)
    payments_reconcile(now=payment.created_at + timedelta(hours=1))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
    charged = [pi for pi in gateway.client.v1.payment_intents.list({"limit": 100}).data if pi.status == "succeeded"]
    assert [pi.id for pi in charged if pi.metadata.to_dict().get("refill_key") == payment.idempotency_key] == [
        payment.provider_reference
    ]


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_paying_again_never_makes_a_second_intent(gateway, localstripe, order, method):
    payment = pay(order, method)
    with pytest.raises(PaymentInProgress):
        pay(order, method)
    localstripe.wallet_pays(method, payment.provider_reference, "succeeded")
    payments_reconcile(now=payment.created_at + timedelta(hours=1))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    again = pay(order, method)
    assert again.pk == payment.pk
    assert Payment.objects.filter(order=order).count() == 1 and periods(order) == 1


def test_neither_wallet_is_charged_with_nobody_there(gateway, order):
    _, token = wallet_tokenize(method="wechat_pay")
    payment = order_pay_card(order=order, token=token, gateway=gateway, off_session=True)
    assert payment.status == Payment.Status.FAILED and payment.provider_reference == ""


def test_a_guest_refilling_any_number_pays_with_wechat_pay_on_refills_page(gateway, localstripe, client):
    """No account: the QR page follows the payment through the gift refill's own address."""
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    owner, _ = make_customer(email="owner-wallets@example.com")
    line = make_line(owner, market, plan, msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    page = client.post("/refill/", {"msisdn": "(202) 555-0143"})
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)
    data = {"msisdn": line.msisdn, "idempotency_key": key, "gift": "us-30day", "periods": "1", "pay_with": "wechat_pay"}
    answer = client.post("/refill/pay/", data)
    payment = Payment.objects.get(card_brand="wechat_pay")
    token = answer.url.rstrip("/").rsplit("/", 1)[-1]
    back = reverse("portal:gift_return", args=[token])
    assert answer.url.endswith(back)  # straight to Refill's own page: no provider page in between

    qr = client.get(back).content.decode()
    status_url = reverse("portal:gift_payment_status", args=[token])
    assert 'data-testid="pay-qr-code"' in qr and "<svg" in qr and f'hx-get="{status_url}"' in qr
    assert 'data-testid="pay-qr-waiting"' in client.get(status_url, headers={"HX-Request": "true"}).content.decode()

    localstripe.wallet_pays("wechat_pay", payment.provider_reference, "succeeded")
    assert client.get(status_url, headers={"HX-Request": "true"})["HX-Redirect"] == back
    assert 'data-testid="gift-paid"' in client.get(back).content.decode()
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["succeeded", "expired"])
def test_stripes_signed_event_settles_a_wallet_payment_nobody_came_back_for(live_server, localstripe, gateway, outcome):
    """The customer paid in WeChat and closed the page: the event localstripe signs and delivers
    to the live receiver settles the attempt, as Stripe's would."""
    localstripe.send_webhooks_to(f"{live_server.url}/webhooks/payments/stripe/", "whsec_wallets")
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer(email="webhook-wallets@example.com")
    line = make_line(customer, market, plan)
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o-wh")
    payment = pay(order, "wechat_pay")
    localstripe.wallet_pays("wechat_pay", payment.provider_reference, outcome)
    wanted = "charge.succeeded" if outcome == "succeeded" else "charge.failed"
    deadline = time.monotonic() + 20
    while not ProviderEvent.objects.filter(type=wanted, idempotency_key=payment.idempotency_key).exists():
        assert time.monotonic() < deadline, f"localstripe did not deliver {wanted}"
        time.sleep(0.2)
    stored = ProviderEvent.objects.get(type=wanted, idempotency_key=payment.idempotency_key)
    provider_event_process(event_pk=stored.pk)
    payment.refresh_from_db()
    order.refresh_from_db()
    if outcome == "succeeded":
        assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
    else:
        assert payment.status == Payment.Status.FAILED and payment.decline_code == DeclineCode.AUTHENTICATION_FAILED
        assert periods(order) == 0
