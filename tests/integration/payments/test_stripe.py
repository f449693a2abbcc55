"""The Stripe adapter against localstripe (started by the test run), and Stripe's webhook
signature scheme checked independently of the adapter."""

import hashlib
import hmac
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.test import override_settings

from refill.integrations.payments.base import (
    BrowserCard,
    Capability,
    CardDetails,
    DeclineCode,
    PaymentToken,
    TokenizationError,
)
from refill.integrations.payments.stripe_gateway import StripeGateway
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import PaymentInProgress
from refill.orders.models import Order
from refill.orders.paying import order_pay_card
from refill.orders.refunds import order_refund
from refill.orders.settling import payment_resume, payments_reconcile
from refill.payments.gateways import GatewayUnsupported, gateway_for
from refill.payments.models import Payment, PaymentMethod, ProviderEvent
from refill.payments.services import card_tokenize, method_add, provider_event_process
from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan
from tests.localstripe_server import LocalStripe, browser_payment_method

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec_refill_test"


@pytest.fixture(scope="module")
def localstripe():
    with LocalStripe() as server:
        yield server


@pytest.fixture
def gateway(localstripe):
    with override_settings(
        REFILL_PAYMENT_GATEWAY="stripe",
        REFILL_STRIPE_SECRET_KEY=LocalStripe.SECRET_KEY,
        REFILL_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        REFILL_STRIPE_API_BASE=localstripe.url,
        REFILL_STRIPE_PUBLISHABLE_KEY=LocalStripe.PUBLISHABLE_KEY,
        REFILL_STRIPE_JS_URL=localstripe.js_url,
    ):
        yield gateway_for()


@pytest.fixture
def order():
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer(email="stripe@example.com")
    line = make_line(customer, market, plan)
    return order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o-stripe")


def card(number: str) -> CardDetails:
    return CardDetails(number=number, exp_month=12, exp_year=2031, cvc="123", holder="Li Wei")


def browser_card(gateway: StripeGateway, number: str) -> BrowserCard:
    """The card as Stripe.js hands it over: made into a PaymentMethod in the browser with the
    publishable key (straight to localstripe, never to Refill); Refill gets only its reference."""
    return BrowserCard(reference=browser_payment_method(gateway.api_origin, number), holder="Li Wei")


def tokenize(gateway: StripeGateway, details: CardDetails) -> PaymentToken:
    """Stripe.js makes the PaymentMethod in the browser; the adapter looks up what it made."""
    return gateway.tokenize_browser(browser_card(gateway, details.number))


def periods(order: Order) -> int:
    return Period.objects.filter(order_item__order=order).count()


def intents_for(gateway: StripeGateway, key: str) -> list:
    listed = gateway.client.v1.payment_intents.list({"limit": 100})
    return [pi for pi in listed.data if pi.metadata.to_dict().get("refill_key") == key]


def test_a_card_is_tokenised_without_refill_keeping_its_number(gateway):
    token = tokenize(gateway, card("4242 4242 4242 4242"))
    assert token.token.startswith("pm_") and "4242424242424242" not in token.token
    assert (token.brand, token.last4, token.exp_month, token.exp_year) == ("visa", "4242", 12, 2031)
    # A reference Stripe does not know, or one that is not a PaymentMethod, is refused.
    for reference in ("pm_doesnotexist", "tok_visa", "pm_<script>"):
        with pytest.raises(TokenizationError) as refused:
            gateway.tokenize_browser(BrowserCard(reference))
        assert refused.value.code == DeclineCode.INVALID_CARD


def test_typed_card_details_never_leave_refill_for_stripe(gateway, localstripe):
    """Stripe takes raw card numbers on its API only from PCI SAQ D merchants: the adapter refuses
    them before any call, and does not declare server tokenisation."""
    with pytest.raises(TokenizationError):
        gateway.tokenize(card("4242424242424242"))
    assert Capability.SERVER_TOKENISATION not in gateway.capabilities
    assert Capability.BROWSER_TOKENISATION in gateway.capabilities
    # The payments services refuse typed details for Stripe before the adapter is reached.
    with pytest.raises(GatewayUnsupported):
        card_tokenize(card=card("4242424242424242"))


def test_without_a_publishable_key_stripe_takes_no_cards(localstripe):
    with override_settings(
        REFILL_STRIPE_SECRET_KEY=LocalStripe.SECRET_KEY,
        REFILL_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        REFILL_STRIPE_API_BASE=localstripe.url,
        REFILL_STRIPE_PUBLISHABLE_KEY="",
    ):
        capabilities = gateway_for("stripe").capabilities
    assert Capability.BROWSER_TOKENISATION not in capabilities
    assert Capability.SERVER_TOKENISATION not in capabilities


def test_paying_an_order_charges_once_and_grants_one_period(gateway, order):
    payment = order_pay_card(order=order, token=tokenize(gateway, card("4242424242424242")), gateway=gateway)
    assert payment.status == Payment.Status.SUCCEEDED and payment.provider_reference.startswith("pi_")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and periods(order) == 1
    [intent] = intents_for(gateway, payment.idempotency_key)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2500, "usd")
    # Paying again (a double click) finds the order paid and charges nothing more.
    again = order_pay_card(order=order, token=tokenize(gateway, card("4242424242424242")), gateway=gateway)
    assert again.pk == payment.pk and Payment.objects.filter(order=order, method="card").count() == 1


def test_a_declined_charge_changes_nothing(gateway, order):
    # localstripe declines charges on this card (Stripe's "attaches, then charges fail" card).
    payment = order_pay_card(order=order, token=tokenize(gateway, card("4000000000000341")), gateway=gateway)
    assert payment.status == Payment.Status.FAILED and payment.decline_code == DeclineCode.DO_NOT_HONOUR
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT and periods(order) == 0


@pytest.mark.parametrize("success", [True, False])
def test_three_d_secure_ends_as_the_bank_says(gateway, localstripe, order, success):
    payment = order_pay_card(
        order=order,
        token=tokenize(gateway, card("4000002500003155")),
        gateway=gateway,
        return_url="https://refill.example/orders/1/payment-return/",
    )
    assert payment.status == Payment.Status.REQUIRES_ACTION and payment.action_url
    intent = gateway.client.v1.payment_intents.retrieve(payment.provider_reference)
    localstripe.authenticate(intent.id, intent.client_secret, success=success)
    payment = payment_resume(payment=payment)
    order.refresh_from_db()
    if success:
        assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
    else:
        assert payment.decline_code == DeclineCode.AUTHENTICATION_FAILED and periods(order) == 0


def test_an_abandoned_confirmation_is_cancelled_so_a_late_one_cannot_charge(gateway, order):
    payment = order_pay_card(order=order, token=tokenize(gateway, card("4000002500003155")), gateway=gateway)
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - timedelta(hours=1))
    assert payments_reconcile() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert gateway.client.v1.payment_intents.retrieve(payment.provider_reference).status == "canceled"


class LostAnswer(StripeGateway):
    """The network drops the answer to one call: ``create`` before Stripe saw it, or ``confirm``
    after Stripe charged."""

    def __init__(self, base: StripeGateway, drop: str) -> None:
        self.__dict__.update(base.__dict__)
        intents = self.client.v1.payment_intents
        real = getattr(intents, drop)

        def lost(*args, **kwargs):
            if drop == "confirm":
                real(*args, **kwargs)
            raise stripe.APIConnectionError("connection reset")

        self._restore = (intents, drop, real)
        setattr(intents, drop, lost)

    def restore(self) -> None:
        intents, name, real = self._restore
        setattr(intents, name, real)


@pytest.mark.parametrize("drop", ["create", "confirm"])
def test_a_lost_answer_is_settled_by_reconciliation_with_one_charge_or_none(gateway, order, drop):
    flaky = LostAnswer(gateway, drop)
    try:
        payment = order_pay_card(order=order, token=tokenize(gateway, card("4242424242424242")), gateway=flaky)
    finally:
        flaky.restore()
    assert payment.status == Payment.Status.UNKNOWN
    # No new attempt while the first is unknown.
    with pytest.raises(PaymentInProgress):
        order_pay_card(order=order, token=tokenize(gateway, card("4242424242424242")), gateway=gateway)
    assert payments_reconcile() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    charged = [pi for pi in intents_for(gateway, payment.idempotency_key) if pi.status == "succeeded"]
    if drop == "confirm":
        assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID
        assert len(charged) == 1 and periods(order) == 1
    else:
        assert payment.status == Payment.Status.FAILED and payment.decline_code == DeclineCode.NETWORK_ERROR
        assert charged == [] and periods(order) == 0 and order.status == Order.Status.AWAITING_PAYMENT


def test_saved_cards_share_one_stripe_customer_and_are_charged_off_session(gateway, order):
    first = method_add(customer=order.customer, gateway=gateway, card=browser_card(gateway, "4242424242424242"))
    second = method_add(customer=order.customer, gateway=gateway, card=browser_card(gateway, "5555555555554444"))
    assert first.provider_customer.startswith("cus_") and second.provider_customer == first.provider_customer
    assert set(PaymentMethod.objects.values_list("token", flat=True)) == {first.token, second.token}
    payment = order_pay_card(
        order=order,
        token=PaymentToken(first.token, first.brand, first.last4, 12, 2031),
        gateway=gateway,
        customer_reference=first.provider_customer,
        off_session=True,
    )
    assert payment.status == Payment.Status.SUCCEEDED
    intent = gateway.client.v1.payment_intents.retrieve(payment.provider_reference)
    assert intent.customer == first.provider_customer and intent.payment_method == first.token


def test_a_card_the_bank_refuses_to_save_is_not_saved(gateway, order):
    with pytest.raises(TokenizationError):
        method_add(customer=order.customer, gateway=gateway, card=browser_card(gateway, "4000000000000002"))
    assert not PaymentMethod.objects.exists()


def test_refund_goes_back_to_the_card_once(gateway, order):
    payment = order_pay_card(order=order, token=tokenize(gateway, card("4242424242424242")), gateway=gateway)
    order.refresh_from_db()
    refund = order_refund(
        order=order, amount=Decimal("10.00"), destination="original", reason="goodwill", idempotency_key="rf-1"
    )
    again = order_refund(
        order=order, amount=Decimal("10.00"), destination="original", reason="goodwill", idempotency_key="rf-1"
    )
    assert refund.pk == again.pk and refund.status == "succeeded" and refund.provider_reference.startswith("re_")
    [stripe_refund] = gateway.client.v1.refunds.list({"payment_intent": payment.provider_reference}).data
    assert stripe_refund.amount == 1000


# Webhooks ------------------------------------------------------------------------------------


def stripe_signature(body: bytes, secret: str, timestamp: int) -> str:
    """Stripe's documented scheme (docs.stripe.com/webhooks#verify-manually), written out here
    rather than borrowed from the adapter."""
    signed = f"{timestamp}.{body.decode()}".encode()
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def intent_event(payment: Payment, event_type: str, event_id: str = "evt_1", error: dict | None = None) -> bytes:
    intent = {
        "id": payment.provider_reference or "pi_x",
        "object": "payment_intent",
        "metadata": {"refill_key": payment.idempotency_key},
        "last_payment_error": error,
    }
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "data": {"object": intent}}).encode()


def post_event(client, body: bytes, *, secret=WEBHOOK_SECRET, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        "/webhooks/payments/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(body, secret, timestamp),
    )


def lost_payment(gateway, order) -> Payment:
    flaky = LostAnswer(gateway, "confirm")
    try:
        return order_pay_card(order=order, token=tokenize(gateway, card("4242424242424242")), gateway=flaky)
    finally:
        flaky.restore()


def test_a_signed_stripe_event_settles_a_lost_answer(client, gateway, order):
    payment = lost_payment(gateway, order)
    body = intent_event(payment, "payment_intent.succeeded")
    assert post_event(client, body).json() == {"received": True, "duplicate": False}
    assert post_event(client, body).json()["duplicate"] is True  # Stripe retried the delivery
    stored = ProviderEvent.objects.get()
    assert (stored.type, stored.idempotency_key, stored.provider_reference) == (
        "charge.succeeded",
        payment.idempotency_key,
        payment.provider_reference,
    )
    provider_event_process(event_pk=stored.pk)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1


def test_a_failed_event_carries_stripes_decline_reason(client, gateway, order):
    payment = lost_payment(gateway, order)
    Payment.objects.filter(pk=payment.pk).update(provider_reference="pi_other")
    body = intent_event(
        payment, "payment_intent.payment_failed", error={"code": "card_declined", "decline_code": "insufficient_funds"}
    )
    assert post_event(client, body).status_code == 200
    assert ProviderEvent.objects.get().decline_code == DeclineCode.INSUFFICIENT_FUNDS


def test_unsigned_forged_or_old_events_are_refused(client, gateway, order):
    payment = lost_payment(gateway, order)
    body = intent_event(payment, "payment_intent.succeeded")
    assert post_event(client, body, secret="whsec_wrong").status_code == 400
    assert post_event(client, body, timestamp=int(time.time()) - 301).status_code == 400
    assert client.post("/webhooks/payments/stripe/", body, content_type="application/json").status_code == 400
    assert not ProviderEvent.objects.exists()
    # An event Refill does not act on is kept and marked ignored.
    other = json.dumps({"id": "evt_9", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).encode()
    assert post_event(client, other).status_code == 200
    assert provider_event_process(event_pk=ProviderEvent.objects.get().pk).status == ProviderEvent.Status.IGNORED


def test_the_adapter_accepts_what_the_stripe_library_signs(gateway):
    body = b'{"id": "evt_2", "type": "charge.refunded", "data": {"object": {"id": "ch_1", "object": "charge"}}}'
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body.decode()}", WEBHOOK_SECRET)
    event = gateway.parse_webhook(body, {"Stripe-Signature": f"t={timestamp},v1=deadbeef,v1={signature}"})
    assert (event.event_id, event.type, event.idempotency_key) == ("evt_2", "charge.refunded", "")


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_a_signed_event_that_settles_a_lost_answer(live_server, localstripe, gateway, order):
    localstripe.send_webhooks_to(f"{live_server.url}/webhooks/payments/stripe/", WEBHOOK_SECRET)
    payment = lost_payment(gateway, order)
    assert payment.status == Payment.Status.UNKNOWN
    deadline = time.monotonic() + 20
    # localstripe may also deliver a late event about an earlier test's intent: wait for this one's.
    mine = ProviderEvent.objects.filter(type="charge.succeeded", idempotency_key=payment.idempotency_key)
    while not mine.exists():
        assert time.monotonic() < deadline, "localstripe did not deliver payment_intent.succeeded"
        time.sleep(0.2)
    stored = mine.get()
    provider_event_process(event_pk=stored.pk)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
