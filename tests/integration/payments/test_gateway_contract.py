"""The gateway registry and the port's contract: every configured adapter (the sandbox, and Stripe
against localstripe) declares its capabilities truthfully, and each declared capability works
through Refill's own services; a capability an adapter does not declare is refused by the payments
services with a clear, translated error, never an AttributeError from inside a payment."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation

from refill.integrations.payments.base import (
    PROVIDER_WALLETS,
    BrowserCard,
    Capabilities,
    Capability,
    CardDetails,
    ChargeRequest,
    ChargeStatus,
    DeclineCode,
    PaymentToken,
    sign_payload,
)
from refill.integrations.payments.sandbox import SandboxGateway
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay, order_pay_card
from refill.orders.refunds import RefundRefused, order_refund
from refill.orders.settling import payment_resume, payments_reconcile
from refill.payments.gateways import GatewayUnsupported, gateway_configured, gateway_for, gateway_names
from refill.payments.models import Payment, PaymentMethod, ProviderEvent, SandboxCharge
from refill.payments.selectors import provider_wallets_offered
from refill.payments.services import card_tokenize, method_add, provider_event_process, wallet_tokenize
from refill.renewals.autorenew import autorenew_sweep, autorenew_update
from refill.renewals.models import RenewalAttempt
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.integration.api.clients import Client as ApiClient
from tests.integration.payments.test_stripe import LostAnswer
from tests.localstripe_server import LocalStripe, browser_payment_method
from tests.paypal_server import PayPalStandIn

pytestmark = pytest.mark.django_db
STRIPE_WEBHOOK_SECRET = "whsec_contract_test"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def localstripe():
    with LocalStripe() as server:
        yield server


def stripe_settings(localstripe) -> dict:
    return {
        "REFILL_PAYMENT_GATEWAY": "stripe",
        "REFILL_STRIPE_SECRET_KEY": LocalStripe.SECRET_KEY,
        "REFILL_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "REFILL_STRIPE_API_BASE": localstripe.url,
        "REFILL_STRIPE_PUBLISHABLE_KEY": LocalStripe.PUBLISHABLE_KEY,
        "REFILL_STRIPE_JS_URL": localstripe.js_url,
    }


@pytest.fixture(scope="module")
def paypal_standin():
    with PayPalStandIn() as server:
        yield server


@pytest.fixture(params=["sandbox", "stripe", "paypal"])
def adapter(request):
    """Each configured adapter in turn, as the one new payments go to."""
    values = {"REFILL_PAYMENT_GATEWAY": "sandbox"}
    if request.param == "stripe":
        values = stripe_settings(request.getfixturevalue("localstripe"))
    if request.param == "paypal":
        values = {"REFILL_PAYMENT_GATEWAY": "paypal", **request.getfixturevalue("paypal_standin").settings()}
    with override_settings(**values):
        yield gateway_for()


@pytest.fixture
def order():
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer(email="contract@example.com")
    line = make_line(customer, market, plan)
    return order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o-contract")


def card(number: str = "4242424242424242") -> CardDetails:
    return CardDetails(number=number, exp_month=12, exp_year=2031, cvc="123", holder="Li Wei")


def card_for(adapter, number: str = "4242424242424242") -> CardDetails | BrowserCard:
    """The card as the customer's page hands it to Refill for ``adapter``: typed details where the
    adapter takes them (the sandbox), or, where the provider's script tokenises in the browser
    (Stripe.js), the reference that script makes: the card posted with the publishable key straight
    to the provider (localstripe's POST /v1/payment_methods), never to Refill."""
    if Capability.BROWSER_TOKENISATION in adapter.capabilities:
        setup = adapter.browser_setup()
        return BrowserCard(reference=browser_payment_method(setup.connect_origins[0], number), holder="Li Wei")
    return card(number)


# A card each adapter's test double sends to the bank's confirmation step.
THREE_D_SECURE_CARD = {"sandbox": "4000000000003162", "stripe": "4000002500003155"}


def signed_charge_event(gateway, payment: Payment) -> tuple[bytes, dict]:
    """A provider's own "this attempt succeeded" notification, signed as that provider signs."""
    now = int(time.time())
    if gateway.name == "sandbox":
        body = json.dumps(
            {
                "id": "evt_contract",
                "type": "charge.succeeded",
                "data": {"idempotency_key": payment.idempotency_key, "reference": payment.provider_reference},
            }
        ).encode()
        return body, {"Sandbox-Signature": sign_payload(body, "whsec_sandbox_demo", now)}
    intent = {
        "id": payment.provider_reference,
        "object": "payment_intent",
        "metadata": {"refill_key": payment.idempotency_key},
    }
    body = json.dumps({"id": "evt_contract", "type": "payment_intent.succeeded", "data": {"object": intent}}).encode()
    return body, {"Stripe-Signature": sign_payload(body, STRIPE_WEBHOOK_SECRET, now)}


# The registry ---------------------------------------------------------------------------------


def test_the_registry_builds_each_adapter_once_and_finds_it_by_name(localstripe):
    assert gateway_names() == ["sandbox", "stripe", "paypal"]
    with override_settings(REFILL_PAYMENT_GATEWAY="sandbox"):
        assert gateway_for() is gateway_for("sandbox") is gateway_for("wallet")
        assert gateway_for().name == "sandbox"
        # Stripe without its keys is known but not configured.
        assert not gateway_configured("stripe")
        with pytest.raises(ImproperlyConfigured):
            gateway_for("stripe")
        with pytest.raises(LookupError):
            gateway_for("adyen")
    with override_settings(**stripe_settings(localstripe)):
        assert gateway_configured("stripe") and gateway_for().name == "stripe"
        assert gateway_for("stripe") is gateway_for()


def test_every_declared_capability_and_wallet_is_one_the_port_knows(adapter):
    assert isinstance(adapter.capabilities, Capabilities)
    assert set(adapter.capabilities.features) <= set(Capability)
    assert set(adapter.capabilities.wallets) <= set(PROVIDER_WALLETS)
    with pytest.raises(ValueError):
        Capabilities(wallets=("cash_on_delivery",))


# One case per capability, run only where it is declared ----------------------------------------


def needs(adapter, capability: Capability) -> None:
    if capability not in adapter.capabilities:
        pytest.skip(f"{adapter.name} does not declare {capability}")


def test_server_tokenisation(adapter):
    needs(adapter, Capability.SERVER_TOKENISATION)
    gateway, token = card_tokenize(card=card("4242 4242 4242 4242"))
    assert gateway is adapter
    assert (token.brand, token.last4, token.exp_month, token.exp_year) == ("visa", "4242", 12, 2031)
    assert "4242424242424242" not in token.token


def test_browser_tokenisation(adapter):
    needs(adapter, Capability.BROWSER_TOKENISATION)
    setup = adapter.browser_setup()
    assert setup.public_key.startswith("pk_") and setup.script_url
    assert setup.script_origins and setup.connect_origins
    gateway, token = card_tokenize(card=card_for(adapter, "4242 4242 4242 4242"))
    assert gateway is adapter
    assert (token.brand, token.last4, token.exp_month, token.exp_year) == ("visa", "4242", 12, 2031)
    assert "4242424242424242" not in token.token


def test_each_adapter_takes_cards_only_the_way_it_declares(adapter):
    """Typed details to an adapter that tokenises in the browser, or a browser reference to one that
    takes typed details: refused by the services before the provider is asked."""
    if Capability.SERVER_TOKENISATION not in adapter.capabilities:
        with pytest.raises(GatewayUnsupported):
            card_tokenize(card=card())
    if Capability.BROWSER_TOKENISATION not in adapter.capabilities:
        with pytest.raises(GatewayUnsupported):
            card_tokenize(card=BrowserCard(reference="pm_made_elsewhere"))


def test_saved_methods_and_off_session_charges(adapter, order):
    needs(adapter, Capability.SAVED_METHODS)
    needs(adapter, Capability.OFF_SESSION)
    method = method_add(customer=order.customer, card=card_for(adapter))
    assert PaymentMethod.objects.get().gateway == adapter.name == method.gateway
    payment = order_pay_card(
        order=order,
        token=PaymentToken(method.token, method.brand, method.last4, 12, 2031),
        gateway=gateway_for(method.gateway),
        customer_reference=method.provider_customer,
        off_session=True,
    )
    assert payment.status == Payment.Status.SUCCEEDED
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_three_d_secure(adapter, order):
    needs(adapter, Capability.THREE_D_SECURE)
    payment = order_pay(
        order=order,
        pay_with=PayWith(card=card_for(adapter, THREE_D_SECURE_CARD[adapter.name])),
        return_url="https://refill.example/orders/1/payment-return/",
    )
    assert payment.status == Payment.Status.REQUIRES_ACTION and payment.action_url
    # Still waiting at the bank: coming back early settles nothing.
    assert payment_resume(payment=payment).status == Payment.Status.REQUIRES_ACTION


@pytest.mark.parametrize("amount", ["25.00", "10.00"])
def test_refunds_whole_and_partial(adapter, order, amount, request):
    needs(adapter, Capability.REFUNDS)
    if amount != "25.00":
        needs(adapter, Capability.PARTIAL_REFUNDS)
    Driver(adapter, request).paid(order)
    order.refresh_from_db()
    refund = order_refund(
        order=order, amount=Decimal(amount), destination="original", reason="goodwill", idempotency_key="rf-c"
    )
    assert refund.status == "succeeded" and refund.card_amount == Decimal(amount)


def test_webhooks(adapter, order, client):
    needs(adapter, Capability.WEBHOOKS)
    if not {Capability.SERVER_TOKENISATION, Capability.BROWSER_TOKENISATION} & adapter.capabilities.features:
        pytest.skip(f"{adapter.name} takes no cards (its notifications: test_webhook_replay below)")
    payment = order_pay(order=order, pay_with=PayWith(card=card_for(adapter)))
    body, headers = signed_charge_event(adapter, payment)
    event = adapter.parse_webhook(body, headers)
    assert (event.type, event.idempotency_key) == ("charge.succeeded", payment.idempotency_key)
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    answer = client.post(f"/webhooks/payments/{adapter.name}/", body, content_type="application/json", **extra)
    assert answer.status_code == 200 and answer.json() == {"received": True, "duplicate": False}
    stored = ProviderEvent.objects.get()
    assert provider_event_process(event_pk=stored.pk).status == ProviderEvent.Status.PROCESSED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_each_provider_wallet_is_offered_exactly_as_declared(adapter, order):
    offered = provider_wallets_offered()
    assert list(offered) == [code for code in PROVIDER_WALLETS if code in adapter.capabilities.wallets]
    for code in PROVIDER_WALLETS:
        if code in adapter.capabilities.wallets:
            gateway, token = wallet_tokenize(method=code)
            assert gateway is adapter and token.brand == code
        else:
            with pytest.raises(GatewayUnsupported):
                wallet_tokenize(method=code)
    if adapter.capabilities.wallets:
        payment = order_pay(
            order=order,
            pay_with=PayWith(provider_wallet=adapter.capabilities.wallets[0]),
            return_url=f"https://refill.example/orders/{order.pk}/payment-return/",
        )
        assert payment.status == Payment.Status.REQUIRES_ACTION and payment.action_url


# The same cases for every adapter: success, decline, lost answer, refund, webhook replay, retry ----
#
# A Driver pays the way each adapter takes money and plays the customer and the provider's test
# double: typed test cards for the sandbox and Stripe (localstripe), the buyer's approval on the
# stand-in for PayPal. The cases below assert only what Refill and the provider end with.

RETURN_URL = "https://refill.example/orders/1/payment-return/"
# Each card adapter's test double: a card it charges, one it declines.
SUCCESS_CARD = "4242424242424242"
DECLINED_CARD = {"sandbox": "4000000000000002", "stripe": "4000000000000341"}


class Driver:
    def __init__(self, adapter, request) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self.standin = request.getfixturevalue("paypal_standin") if self.name == "paypal" else None
        self.localstripe = request.getfixturevalue("localstripe") if self.name == "stripe" else None

    def card_token(self, number: str) -> PaymentToken:
        """A card as this adapter's test double takes it (the one place the cases make card
        tokens: where the provider tokenises in the browser, the reference its script makes)."""
        return card_tokenize(card=card_for(self.adapter, number))[1]

    def start(self, order: Order, number: str = SUCCESS_CARD) -> Payment:
        """The customer pays: a card charged at once, or PayPal's order waiting for the buyer."""
        if self.name == "paypal":
            payment = order_pay(order=order, pay_with=PayWith(provider_wallet="paypal"), return_url=RETURN_URL)
            assert payment.status == Payment.Status.REQUIRES_ACTION and payment.action_url
            return payment
        return order_pay_card(order=order, token=self.card_token(number), gateway=self.adapter)

    def paid(self, order: Order) -> Payment:
        payment = self.start(order)
        if self.name == "paypal":
            self.standin.buyer(payment.provider_reference, "approve")
            payment = payment_resume(payment=payment)
        return payment

    def declined(self, order: Order) -> Payment:
        if self.name == "paypal":
            payment = self.start(order)
            self.standin.buyer(payment.provider_reference, "approve_declined")
            return payment_resume(payment=payment)
        return self.start(order, DECLINED_CARD[self.name])

    def lost(self, order: Order) -> Payment:
        """The provider charged and the answer never reached Refill."""
        if self.name == "sandbox":
            return self.start(order, "4000000000000341")
        if self.name == "stripe":
            flaky = LostAnswer(self.adapter, "confirm")
            try:
                return order_pay_card(order=order, token=self.card_token(SUCCESS_CARD), gateway=flaky)
            finally:
                flaky.restore()
        payment = self.start(order)
        self.standin.buyer(payment.provider_reference, "approve")
        self.standin.lose_next_answer("capture")
        return payment_resume(payment=payment)

    def reconcile(self) -> int:
        # A PayPal attempt whose capture answer was lost is still open at Refill (requires_action):
        # reconciliation takes it up once it is 30 minutes old.
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=False):
            return payments_reconcile()

    def charges(self, key: str) -> int:
        """How many times the provider took money for this idempotency key."""
        if self.name == "sandbox":
            return SandboxCharge.objects.filter(idempotency_key=key, status="succeeded").count()
        if self.name == "stripe":
            listed = self.adapter.client.v1.payment_intents.list({"limit": 100}).data
            mine = [pi for pi in listed if pi.metadata.to_dict().get("refill_key") == key]
            return sum(1 for pi in mine if pi.status == "succeeded")
        return sum(1 for c in self.standin.stats()["captures"] if c["custom_id"] == key and c["status"] == "COMPLETED")

    def succeeded_event(self, payment: Payment) -> list[tuple[bytes, dict]]:
        """The provider's "this attempt succeeded" notification, delivered twice."""
        if self.name == "paypal":
            body, headers = self.standin.event("PAYMENT.CAPTURE.COMPLETED", payment.provider_reference)
            return [(body, headers), self.standin.retransmit(json.loads(body)["id"])]
        body, headers = signed_charge_event(self.adapter, payment)
        return [(body, headers), (body, headers)]

    def charge_request(self, order: Order, key: str) -> ChargeRequest:
        token = "paypal" if self.name == "paypal" else self.card_token(SUCCESS_CARD).token
        return ChargeRequest(
            amount=order.total,
            currency=order.currency,
            token=token,
            idempotency_key=key,
            description=f"Refill order {order.pk}",
            return_url=RETURN_URL,
        )


def test_success(adapter, order, request):
    payment = Driver(adapter, request).paid(order)
    order.refresh_from_db()
    assert (payment.status, payment.gateway) == (Payment.Status.SUCCEEDED, adapter.name)
    assert order.status == Order.Status.PAID and Period.objects.filter(order_item__order=order).count() == 1
    assert Driver(adapter, request).charges(payment.idempotency_key) == 1


def test_decline(adapter, order, request):
    payment = Driver(adapter, request).declined(order)
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and payment.decline_code in DeclineCode
    assert order.status == Order.Status.AWAITING_PAYMENT and not Period.objects.filter(order_item__order=order)
    assert Driver(adapter, request).charges(payment.idempotency_key) == 0


def test_lost_answer_reconciled(adapter, order, request):
    driver = Driver(adapter, request)
    payment = driver.lost(order)
    assert payment.status in (Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION)
    order.refresh_from_db()
    assert order.status != Order.Status.PAID
    assert driver.reconcile() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID
    assert Period.objects.filter(order_item__order=order).count() == 1 and driver.charges(payment.idempotency_key) == 1


def test_webhook_replay(adapter, order, request, client):
    """A verified "succeeded" notification for an attempt whose answer was lost, delivered twice
    through the live receiver: stored once, processed once, one period."""
    needs(adapter, Capability.WEBHOOKS)
    driver = Driver(adapter, request)
    payment = driver.lost(order)
    answers = []
    for body, headers in driver.succeeded_event(payment):
        extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        answer = client.post(f"/webhooks/payments/{adapter.name}/", body, content_type="application/json", **extra)
        answers.append(answer.json())
    assert answers == [{"received": True, "duplicate": False}, {"received": True, "duplicate": True}]
    stored = ProviderEvent.objects.get()
    assert provider_event_process(event_pk=stored.pk).status == ProviderEvent.Status.PROCESSED
    assert provider_event_process(event_pk=stored.pk).attempts == 1  # a second run finds it done
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID
    assert Period.objects.filter(order_item__order=order).count() == 1


def test_idempotent_retry(adapter, order, request):
    """The same request sent again with the same key (a retry after a timeout): one attempt at
    the provider, one charge."""
    driver = Driver(adapter, request)
    charge = driver.charge_request(order, "pay_contract_retry")
    first, again = gateway_for().charge(charge), gateway_for().charge(charge)
    assert first.provider_reference == again.provider_reference and first.status == again.status
    if driver.name == "paypal":
        driver.standin.buyer(first.provider_reference, "approve")
        assert adapter.fetch(charge.idempotency_key, first.provider_reference).status == ChargeStatus.SUCCEEDED
        assert adapter.fetch(charge.idempotency_key, first.provider_reference).status == ChargeStatus.SUCCEEDED
    else:
        assert first.status == ChargeStatus.SUCCEEDED
    assert driver.charges(charge.idempotency_key) == 1


def test_stripe_offers_exactly_alipay_and_wechat_pay(localstripe, order):
    """Stripe takes Alipay and WeChat Pay (PaymentIntents) and no other provider wallet: PayPal and
    Apple Pay are refused before anything is recorded, whatever the class's methods could do."""
    with override_settings(**stripe_settings(localstripe)):
        assert list(provider_wallets_offered()) == ["alipay", "wechat_pay"]
        for method in ("paypal", "apple_pay"):
            with pytest.raises(GatewayUnsupported):
                order_pay(order=order, pay_with=PayWith(provider_wallet=method))
    assert not Payment.objects.exists()


def answer_as_customer(request, payment: Payment, approve: bool, client) -> None:
    """What the customer does in the wallet's app or on the provider's page."""
    if payment.gateway == "sandbox":
        reference = payment.action_url.rstrip("/").rsplit("/", 1)[-1]
        answer = client.post(f"/sandbox/confirm/{reference}/", {"decision": "approve" if approve else "refuse"})
        assert answer.status_code == 302
    elif payment.gateway == "paypal":
        # The buyer approves on PayPal's page, or approves with a funding source PayPal declines.
        standin = request.getfixturevalue("paypal_standin")
        standin.buyer(payment.provider_reference, "approve" if approve else "approve_declined")
    else:
        localstripe = request.getfixturevalue("localstripe")
        localstripe.wallet_pays(payment.card_brand, payment.provider_reference, "succeeded" if approve else "failed")


@pytest.mark.parametrize("approve", [True, False])
def test_each_declared_wallet_waits_for_the_customer_then_settles_as_they_answered(
    request, adapter, order, client, approve
):
    """Every adapter, every wallet it declares: the payment waits for the customer (a page to send
    them to, or a QR code Refill shows at the return address), and ends as they answered there."""
    login(client, order.customer.users.get())
    for method in adapter.capabilities.wallets:
        wallet_order = order_create_renewal(
            customer=order.customer, line=order.line, plan=order.items.get().plan, periods=1, idempotency_key=method
        )
        payment = order_pay(
            order=wallet_order,
            pay_with=PayWith(provider_wallet=method),
            return_url=f"https://refill.example/orders/{wallet_order.pk}/payment-return/",
        )
        assert payment.status == Payment.Status.REQUIRES_ACTION and payment.card_brand == method
        answer_as_customer(request, payment, approve, client)
        back = client.get(f"/orders/{wallet_order.pk}/payment-return/")
        assert back.status_code == 302 and "/accounts/" not in back.url
        payment.refresh_from_db()
        wallet_order.refresh_from_db()
        assert payment.status == (Payment.Status.SUCCEEDED if approve else Payment.Status.FAILED), method
        assert (wallet_order.status == Order.Status.PAID) is approve


# A capability an adapter does not declare ------------------------------------------------------


class CardOnlyGateway(SandboxGateway):
    """A provider that takes typed cards and nothing else: no saved cards, no wallets, no
    refunds, no notifications (the sandbox's books stand in for its servers)."""

    name = "cardonly"
    capabilities = Capabilities(features=frozenset({Capability.SERVER_TOKENISATION}))


class WholeRefundsGateway(SandboxGateway):
    """A provider that refunds only the whole charge."""

    name = "wholerefunds"
    capabilities = Capabilities(features=frozenset({Capability.SERVER_TOKENISATION, Capability.REFUNDS}))


ADAPTERS = {
    "sandbox": "refill.integrations.payments.sandbox.SandboxGateway",
    "cardonly": f"{__name__}.CardOnlyGateway",
    "wholerefunds": f"{__name__}.WholeRefundsGateway",
}


@pytest.fixture
def card_only():
    with override_settings(REFILL_PAYMENT_ADAPTERS=ADAPTERS, REFILL_PAYMENT_GATEWAY="cardonly"):
        yield gateway_for()


def test_an_undeclared_capability_is_refused_with_a_clear_translated_error(card_only, order, client):
    with pytest.raises(GatewayUnsupported) as refused:
        method_add(customer=order.customer, card=card())
    assert refused.value.code == "payment_capability_missing"
    with translation.override("en"):
        assert str(refused.value) == "This payment provider cannot do that: saving a payment method"
    with translation.override("zh-hans"):
        assert str(refused.value) == "此支付机构无法办理：保存支付方式"
    assert not PaymentMethod.objects.exists()
    assert provider_wallets_offered() == {}
    with pytest.raises(GatewayUnsupported):
        order_pay(order=order, pay_with=PayWith(provider_wallet="alipay"))
    assert not Payment.objects.exists()
    # It takes no notifications: its webhook address does not exist.
    assert client.post("/webhooks/payments/cardonly/", b"{}", content_type="application/json").status_code == 404


def test_a_refund_the_provider_cannot_make_is_refused_before_anything_is_recorded(card_only, order):
    payment = order_pay(order=order, pay_with=PayWith(card=card()))
    assert (payment.status, payment.gateway) == (Payment.Status.SUCCEEDED, "cardonly")
    order.refresh_from_db()
    with pytest.raises(RefundRefused, match="refunds"):
        order_refund(
            order=order, amount=Decimal("25.00"), destination="original", reason="goodwill", idempotency_key="rf-1"
        )
    assert not order.refunds.exists()


def test_a_provider_without_partial_refunds_refunds_the_whole_charge_only(order):
    with override_settings(REFILL_PAYMENT_ADAPTERS=ADAPTERS, REFILL_PAYMENT_GATEWAY="wholerefunds"):
        order_pay(order=order, pay_with=PayWith(card=card()))
        order.refresh_from_db()
        with pytest.raises(RefundRefused, match="partial refunds"):
            order_refund(
                order=order, amount=Decimal("10.00"), destination="original", reason="goodwill", idempotency_key="r1"
            )
        assert not order.refunds.exists()
        whole = order_refund(
            order=order, amount=Decimal("25.00"), destination="original", reason="goodwill", idempotency_key="r2"
        )
        assert whole.status == "succeeded"


def test_the_api_refuses_a_provider_wallet_the_gateway_does_not_take_with_a_problem_not_a_fault(card_only):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("api-wallet@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    client = ApiClient()
    login(client, user)
    answer = client.post(
        "/api/v1/orders",
        {"msisdn": line.msisdn, "plan": "us-30day", "pay_with": "alipay"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-wallet",
    )
    assert answer.status_code == 422 and answer.json()["code"] == "payment_capability_missing"
    assert not Payment.objects.exists()


def test_a_saved_method_is_charged_by_the_adapter_that_saved_it(order):
    with override_settings(REFILL_PAYMENT_ADAPTERS=ADAPTERS, REFILL_PAYMENT_GATEWAY="sandbox"):
        method = method_add(customer=order.customer, card=card())
    # The operator changes the gateway new payments go to; the saved card stays the sandbox's.
    with override_settings(REFILL_PAYMENT_ADAPTERS=ADAPTERS, REFILL_PAYMENT_GATEWAY="cardonly"):
        payment = order_pay(order=order, pay_with=PayWith(saved_method=method))
    assert (payment.status, payment.gateway) == (Payment.Status.SUCCEEDED, "sandbox")


class OnSessionGateway(SandboxGateway):
    """A provider whose saved methods can be charged only with the customer present."""

    name = "onsession"
    capabilities = Capabilities(
        features=frozenset({Capability.SERVER_TOKENISATION, Capability.SAVED_METHODS, Capability.REFUNDS})
    )


@pytest.mark.django_db(transaction=True)
def test_auto_renew_passes_over_a_saved_method_whose_provider_cannot_charge_off_session():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, _ = make_customer("offsession@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550144")
    t0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        renew(line, plan)
    adapters = {**ADAPTERS, "onsession": f"{__name__}.OnSessionGateway"}
    with override_settings(REFILL_PAYMENT_ADAPTERS=adapters, REFILL_PAYMENT_GATEWAY="onsession"):
        method_add(customer=customer, card=card())
        assert PaymentMethod.objects.get().gateway == "onsession"
        autorenew_update(line=line, actor=None, enabled=True)
        line.refresh_from_db()
        end = line.period_end
        with time_machine.travel(end - timedelta(hours=23), tick=False):
            autorenew_sweep()
    # Nothing was sent to a provider that would have had to ask the absent customer.
    assert not Payment.objects.filter(gateway="onsession").exists()
    assert RenewalAttempt.objects.order_by("number").first().reason == "gateway_unavailable"
    line.refresh_from_db()
    assert line.period_end == end


# Only the payments app reaches a gateway, and nobody sniffs one -------------------------------


def test_no_module_sniffs_a_gateway_for_features_or_builds_one_itself():
    offenders = []
    for path in sorted((ROOT / "src" / "refill").rglob("*.py")):
        relative = path.relative_to(ROOT / "src" / "refill").as_posix()
        text = path.read_text()
        for needle in ("hasattr(gateway", "getattr(gateway", "hasattr(get_gateway", "get_gateway("):
            if needle in text:
                offenders.append(f"{relative}: {needle}")
        building = ("SandboxGateway(", "StripeGateway(", "stripe_gateway import", "payments.sandbox import")
        # The demo data is the sandbox's by definition (its charges are sandbox charges).
        allowed = ("integrations/payments/", "payments/", "demo/", "catalog/demo.py")
        if not relative.startswith(allowed) and any(b in text for b in building):
            offenders.append(f"{relative}: builds an adapter instead of asking refill.payments.gateways")
        calls = [f"gateway.{verb}(" for verb in ("charge", "fetch", "cancel", "refund", "tokenize", "save_method")]
        browser = ("tokenize_wallet", "tokenize_browser", "browser_action", "browser_setup")
        calls += [f"gateway.{verb}(" for verb in browser]
        if not relative.startswith(allowed) and any(call in text for call in calls):
            offenders.append(f"{relative}: calls a gateway instead of refill.payments.services")
    assert offenders == []


# Which adapter takes which way to pay --------------------------------------------------------


class PayPalOnlyGateway(SandboxGateway):
    """A provider that takes PayPal and nothing else (its books are the sandbox's)."""

    name = "paypalonly"
    capabilities = Capabilities(features=frozenset({Capability.REFUNDS}), wallets=("paypal",))


def test_each_way_to_pay_goes_to_the_adapter_its_route_names(card_only, order):
    """Cards to one adapter, PayPal to another: each wallet is offered when the adapter it is
    routed to declares it, and its attempt is recorded under that adapter's name."""
    adapters = {**ADAPTERS, "paypalonly": f"{__name__}.PayPalOnlyGateway"}
    with override_settings(
        REFILL_PAYMENT_ADAPTERS=adapters,
        REFILL_PAYMENT_GATEWAY="cardonly",
        REFILL_PAYMENT_ROUTES={"paypal": "paypalonly"},
    ):
        assert list(provider_wallets_offered()) == ["paypal"]
        assert card_tokenize(card=card())[0].name == "cardonly"
        gateway, token = wallet_tokenize(method="paypal")
        assert gateway.name == "paypalonly" and token.brand == "paypal"
        with pytest.raises(GatewayUnsupported):
            wallet_tokenize(method="alipay")
        payment = order_pay(order=order, pay_with=PayWith(provider_wallet="paypal"))
        assert payment.gateway == "paypalonly" and payment.status == Payment.Status.REQUIRES_ACTION
    with override_settings(REFILL_PAYMENT_ADAPTERS=adapters, REFILL_PAYMENT_ROUTES={"paypal": "missing"}):
        # A route to an adapter that does not exist offers nothing rather than failing the page.
        assert "paypal" not in provider_wallets_offered()
