"""The PayPal adapter against the local stand-in (tests/paypal_server.py), which checks every
request against PayPal's published OpenAPI descriptions: create, the buyer's approval, capture once,
declines, cancelled approvals, lost answers, refunds, the access token, and webhooks verified by
PayPal's verification call."""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone, translation

from refill.integrations.payments.base import ChargeRequest, ChargeStatus, DeclineCode
from refill.integrations.payments.paypal_gateway import PayPalGateway, paypal_value
from refill.orders.checkout import order_create_renewal
from refill.orders.errors import payment_decline_message
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.orders.refunds import RefundRefused, order_refund
from refill.orders.settling import payment_resume, payments_reconcile
from refill.payments.gateways import gateway_for, gateway_name_for
from refill.payments.models import Payment, ProviderEvent
from refill.payments.selectors import provider_wallets_offered
from refill.payments.services import provider_event_process
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.paypal_server import PayPalStandIn

pytestmark = pytest.mark.django_db
RETURN_URL = "https://refill.example/orders/1/payment-return/"


@pytest.fixture(scope="module")
def standin():
    with PayPalStandIn() as server:
        yield server


@pytest.fixture(autouse=True)
def requests_match_paypals_description(standin):
    """Every request the adapter sent in a test matched PayPal's published description."""
    standin.violations(clear=True)
    yield
    assert standin.violations(clear=True) == []


@pytest.fixture
def paypal(standin):
    """Cards stay with the sandbox; PayPal goes to the PayPal adapter (REFILL_PAYMENT_ROUTES)."""
    with override_settings(REFILL_PAYMENT_ROUTES={"paypal": "paypal"}, **standin.settings()):
        yield gateway_for("paypal")


@pytest.fixture
def order():
    market = make_market()
    plan = make_plan(market, "p30", price="25.00")
    customer, _ = make_customer(email="paypal@example.com")
    line = make_line(customer, market, plan)
    return order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="o-paypal")


def periods(order: Order) -> int:
    return Period.objects.filter(order_item__order=order).count()


def start(order: Order) -> Payment:
    """The customer chose PayPal: the order is created at PayPal and they are sent to approve it."""
    return order_pay(order=order, pay_with=PayWith(provider_wallet="paypal"), return_url=RETURN_URL)


def test_paypal_is_offered_when_routed_to_its_configured_adapter(standin):
    with override_settings(REFILL_PAYMENT_ROUTES={"paypal": "paypal"}):
        # Routed to PayPal but without its keys: not offered, rather than failing at the payment.
        assert "paypal" not in provider_wallets_offered()
    with override_settings(REFILL_PAYMENT_ROUTES={"paypal": "paypal"}, **standin.settings()):
        # The other wallets stay with the sandbox (REFILL_PAYMENT_GATEWAY) and its stand-in pages.
        assert "paypal" in provider_wallets_offered() and gateway_name_for("paypal") == "paypal"


def test_the_buyer_approves_and_refill_captures_once(paypal, standin, order):
    payment = start(order)
    assert (payment.status, payment.gateway, payment.card_brand) == (Payment.Status.REQUIRES_ACTION, "paypal", "paypal")
    # The reference (PayPal's order id) was recorded before the buyer could approve anything.
    assert re.fullmatch(r"[A-Z0-9]+", payment.provider_reference)
    assert payment.action_url == f"{standin.url}/checkoutnow?token={payment.provider_reference}"
    sent = standin.order(payment.provider_reference)
    unit = sent["purchase_units"][0]
    assert (sent["intent"], unit["amount"]) == ("CAPTURE", {"currency_code": "USD", "value": "25.00"})
    assert unit["custom_id"] == unit["invoice_id"] == payment.idempotency_key
    assert periods(order) == 0

    # Coming back before approving settles nothing.
    assert payment_resume(payment=payment).status == Payment.Status.REQUIRES_ACTION
    back = standin.buyer(payment.provider_reference, "approve")
    assert back.startswith(RETURN_URL + "?") and f"token={payment.provider_reference}" in back
    payment = payment_resume(payment=payment)
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
    # Asked again (a second tab, reconciliation), PayPal's answer is the same capture.
    assert paypal.fetch(payment.idempotency_key, payment.provider_reference).status == ChargeStatus.SUCCEEDED
    captures = [c for c in standin.stats()["captures"] if c["_order"] == payment.provider_reference]
    assert len(captures) == 1 and captures[0]["amount"]["value"] == "25.00"


def test_the_return_and_cancel_addresses_lead_back_to_refill_in_the_buyers_language(paypal, standin, order):
    with translation.override("zh-hans"):
        payment = start(order)
    context = standin.order(payment.provider_reference)["experience_context"]
    assert context == {
        "return_url": RETURN_URL,
        "cancel_url": RETURN_URL + "?cancelled=1",
        "locale": "zh-CN",
        "shipping_preference": "NO_SHIPPING",
        "user_action": "PAY_NOW",
    }
    assert standin.buyer(payment.provider_reference, "cancel") == (
        RETURN_URL + "?cancelled=1&token=" + payment.provider_reference
    )
    assert urllib.parse.urlsplit(payment.action_url).path == "/checkoutnow"


def test_amounts_follow_paypals_decimals_for_each_currency():
    assert paypal_value(Decimal("25"), "USD") == "25.00"
    assert paypal_value(Decimal("68.00"), "CNY") == "68.00"
    assert paypal_value(Decimal("2500"), "JPY") == "2500"
    # HUF and TWD have two decimals in ISO 4217, none at PayPal.
    assert paypal_value(Decimal("1200.00"), "HUF") == "1200"
    with pytest.raises(ValueError):
        paypal_value(Decimal("1200.50"), "HUF")
    with pytest.raises(ValueError):
        paypal_value(Decimal("0"), "USD")


def test_a_funding_source_paypal_declines_fails_the_attempt_in_paypals_words(paypal, standin, order):
    payment = start(order)
    standin.buyer(payment.provider_reference, "approve_declined")
    payment = payment_resume(payment=payment)
    order.refresh_from_db()
    assert (payment.status, payment.decline_code) == (Payment.Status.FAILED, DeclineCode.DO_NOT_HONOUR)
    assert order.status != Order.Status.PAID and periods(order) == 0
    with translation.override("en"):
        assert payment_decline_message(payment) == (
            "The payment was not completed in PayPal. Nothing was charged. Try again, or choose another way to pay."
        )


def test_a_buyer_who_cancels_at_paypal_comes_back_to_a_clear_refusal_and_can_try_again(paypal, standin, order, client):
    login(client, order.customer.users.get())
    payment = order_pay(
        order=order,
        pay_with=PayWith(provider_wallet="paypal"),
        return_url=f"http://testserver/orders/{order.pk}/payment-return/",
    )
    back = standin.buyer(payment.provider_reference, "cancel")
    answer = client.get(back, follow=True)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.decline_code) == (Payment.Status.FAILED, DeclineCode.AUTHENTICATION_FAILED)
    assert order.status != Order.Status.PAID
    assert answer.redirect_chain[-1][0] == f"/orders/{order.pk}/"
    page = answer.content.decode()
    assert "The payment was not completed in PayPal." in page
    assert f'href="/lines/{order.line_id}/renew/' in page and 'data-testid="try-again"' in page
    # A late approval of the given-up order is never captured.
    standin.buyer(payment.provider_reference, "approve")
    assert payment_resume(payment=payment).status == Payment.Status.FAILED
    assert [c for c in standin.stats()["captures"] if c["_order"] == payment.provider_reference] == []


def test_a_lost_answer_to_the_capture_is_reconciled_as_one_charge(paypal, standin, order):
    payment = start(order)
    standin.buyer(payment.provider_reference, "approve")
    standin.lose_next_answer("capture")
    # PayPal captured; the answer never arrived: the attempt stays open, nothing is settled blindly.
    assert payment_resume(payment=payment).status == Payment.Status.REQUIRES_ACTION
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert payments_reconcile() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1
    assert len([c for c in standin.stats()["captures"] if c["_order"] == payment.provider_reference]) == 1


def test_a_lost_answer_to_the_create_is_settled_as_nothing_charged(paypal, standin, order):
    standin.lose_next_answer("create")
    payment = start(order)
    # Nobody got an approval link, so nobody can approve, and Refill never captures.
    assert payment.status == Payment.Status.UNKNOWN and payment.provider_reference == ""
    assert payments_reconcile() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.decline_code) == (Payment.Status.FAILED, DeclineCode.NETWORK_ERROR)
    assert periods(order) == 0


def test_the_same_key_creates_one_order_and_captures_once(paypal, standin, order):
    """A retried create (same PayPal-Request-Id) answers the same order; a capture asked twice
    captures once."""
    references = []
    request = ChargeRequest(
        amount=Decimal("25.00"),
        currency="USD",
        token="paypal",
        idempotency_key="pay_retry_1",
        description="Refill order",
        return_url=RETURN_URL,
        on_reference=references.append,
    )
    first, second = paypal.charge(request), paypal.charge(request)
    assert first.provider_reference == second.provider_reference == references[0] == references[1]
    standin.buyer(first.provider_reference, "approve")
    assert paypal.fetch("pay_retry_1", first.provider_reference).status == ChargeStatus.SUCCEEDED
    assert paypal.fetch("pay_retry_1", first.provider_reference).status == ChargeStatus.SUCCEEDED
    assert len([c for c in standin.stats()["captures"] if c["_order"] == first.provider_reference]) == 1


def test_the_access_token_is_kept_and_renewed_when_paypal_refuses_it(paypal, standin, order):
    issued = standin.stats()["tokens_issued"]
    payment = start(order)
    paypal.fetch(payment.idempotency_key, payment.provider_reference)
    paypal.fetch(payment.idempotency_key, payment.provider_reference)
    assert standin.stats()["tokens_issued"] <= issued + 1
    standin.expire_tokens()
    assert paypal.fetch(payment.idempotency_key, payment.provider_reference).status == ChargeStatus.REQUIRES_ACTION
    assert standin.stats()["tokens_issued"] >= issued + 1


def test_refunds_whole_or_in_parts_up_to_the_capture_once_per_key(paypal, standin, order):
    payment = start(order)
    standin.buyer(payment.provider_reference, "approve")
    payment_resume(payment=payment)
    order.refresh_from_db()
    first = order_refund(
        order=order, amount=Decimal("10.00"), destination="original", reason="goodwill", idempotency_key="rf-pp-1"
    )
    again = order_refund(
        order=order, amount=Decimal("10.00"), destination="original", reason="goodwill", idempotency_key="rf-pp-1"
    )
    assert first.pk == again.pk and first.status == "succeeded" and first.card_amount == Decimal("10.00")
    rest = order_refund(
        order=order, amount=Decimal("15.00"), destination="original", reason="goodwill", idempotency_key="rf-pp-2"
    )
    assert rest.status == "succeeded"
    capture = next(c for c in standin.stats()["captures"] if c["_order"] == payment.provider_reference)
    assert (capture["status"], capture["_refunded"]) == ("REFUNDED", "25.00")
    with pytest.raises(RefundRefused):
        order_refund(
            order=order, amount=Decimal("1.00"), destination="original", reason="goodwill", idempotency_key="rf-pp-3"
        )


def post_event(client, body: bytes, headers: dict[str, str]):
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return client.post("/webhooks/payments/paypal/", body, content_type="application/json", **extra)


def lost_capture(standin, order) -> Payment:
    payment = start(order)
    standin.buyer(payment.provider_reference, "approve")
    standin.lose_next_answer("capture")
    return payment_resume(payment=payment)


def test_a_verified_capture_event_settles_a_lost_answer_once(client, paypal, standin, order):
    payment = lost_capture(standin, order)
    body, headers = standin.event("PAYMENT.CAPTURE.COMPLETED", payment.provider_reference)
    assert post_event(client, body, headers).json() == {"received": True, "duplicate": False}
    # PayPal delivers the same event again (a new transmission): stored once.
    event_id = json.loads(body)["id"]
    again, again_headers = standin.retransmit(event_id)
    assert again_headers["PAYPAL-TRANSMISSION-ID"] != headers["PAYPAL-TRANSMISSION-ID"]
    assert post_event(client, again, again_headers).json() == {"received": True, "duplicate": True}
    stored = ProviderEvent.objects.get()
    assert (stored.type, stored.idempotency_key, stored.provider_reference) == (
        "charge.succeeded",
        payment.idempotency_key,
        payment.provider_reference,
    )
    assert provider_event_process(event_pk=stored.pk).status == ProviderEvent.Status.PROCESSED
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Order.Status.PAID and periods(order) == 1


def test_forged_or_unsigned_notifications_are_refused_and_nothing_is_stored(client, paypal, standin, order):
    payment = lost_capture(standin, order)
    body, headers = standin.event("PAYMENT.CAPTURE.COMPLETED", payment.provider_reference)
    forged = body.replace(b"PAYMENT.CAPTURE.COMPLETED", b"PAYMENT.CAPTURE.DENIED")
    assert post_event(client, forged, headers).status_code == 400
    # The same event written differently is not what PayPal signed (it checks the bytes it sent).
    assert post_event(client, json.dumps(json.loads(body)).encode(), headers).status_code == 400
    assert post_event(client, body, {**headers, "PAYPAL-TRANSMISSION-SIG": "c2lnbmF0dXJl"}).status_code == 400
    unsigned = {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
    assert post_event(client, body, unsigned).status_code == 400
    with override_settings(REFILL_PAYPAL_WEBHOOK_ID="WH4SOMEONEELSE"):
        # Sent to another webhook of the account: not ours to act on.
        assert post_event(client, body, headers).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_denied_capture_event_carries_a_decline(client, paypal, standin, order):
    payment = lost_capture(standin, order)
    body, headers = standin.event("PAYMENT.CAPTURE.DENIED", payment.provider_reference)
    event = paypal.parse_webhook(body, headers)
    assert (event.type, event.idempotency_key, event.decline_code) == (
        "charge.failed",
        payment.idempotency_key,
        DeclineCode.DO_NOT_HONOUR,
    )


def test_the_stand_in_refuses_a_request_that_does_not_match_paypals_description(paypal, standin):
    """The check itself: an order PayPal's description does not allow is answered 400."""
    bad = {
        "intent": "SALE",
        "purchase_units": [{"amount": {"currency_code": "USD", "value": "25,00"}, "refill_key": "x"}],
    }
    with pytest.raises(Exception, match="400"):
        paypal._call("POST", "/v2/checkout/orders", bad, request_id="bad-1")
    problems = standin.violations(clear=True)
    assert len(problems) == 1 and "SALE" in problems[0]["problem"]
    with pytest.raises(Exception, match="400"):
        paypal._call("POST", "/v2/checkout/orders", {**bad, "intent": "CAPTURE"}, request_id="bad-2")
    assert "25,00" in standin.violations(clear=True)[0]["problem"]
    unknown = {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "1.00"}, "x": 1}]}
    with pytest.raises(Exception, match="400"):
        paypal._call("POST", "/v2/checkout/orders", unknown, request_id="bad-3")
    assert "body.purchase_units[0].x" in standin.violations(clear=True)[0]["problem"]
    # No PayPal-Request-Id on a create: PayPal's description requires one.
    with pytest.raises(Exception, match="400"):
        paypal._call("POST", "/v2/checkout/orders", {**unknown, "purchase_units": [unknown["purchase_units"][0]]})
    assert "PayPal-Request-Id" in standin.violations(clear=True)[0]["problem"]


def test_the_adapter_needs_its_keys_and_talks_to_paypal_only_over_tls(standin):
    with override_settings(REFILL_PAYPAL_CLIENT_ID="", REFILL_PAYPAL_CLIENT_SECRET="", REFILL_PAYPAL_WEBHOOK_ID=""):
        with pytest.raises(ImproperlyConfigured):
            PayPalGateway.from_settings()
    with pytest.raises(ImproperlyConfigured):
        PayPalGateway(client_id="a", client_secret="b", webhook_id="c", api_base="http://api-m.paypal.com")
    assert PayPalGateway(client_id="a", client_secret="b", webhook_id="c").api_base == "https://api-m.paypal.com"
    capabilities = PayPalGateway.capabilities
    assert capabilities.wallets == ("paypal",)
    assert {str(c) for c in capabilities.features} == {"refunds", "partial_refunds", "webhooks"}


def test_credentials_paypal_refuses_are_an_operators_problem_not_a_decline(standin, order):
    """A wrong client secret is not the customer's card being declined: the attempt is left
    unknown (and logged) and reconciliation settles it as not charged."""
    wrong = {**standin.settings(), "REFILL_PAYPAL_CLIENT_SECRET": "not-the-secret"}
    with override_settings(REFILL_PAYMENT_ROUTES={"paypal": "paypal"}, **wrong):
        payment = start(order)
        assert (payment.status, payment.decline_code) == (Payment.Status.UNKNOWN, "")
        assert payments_reconcile() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.decline_code) == (Payment.Status.FAILED, DeclineCode.NETWORK_ERROR)


def test_a_guest_who_cancels_at_paypal_is_offered_to_try_again(paypal, standin, client):
    """Refill any number, no account: PayPal's cancel address leads to the guest's own return page,
    which gives the attempt up and offers Try again with the same number and plan."""
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    owner, _ = make_customer("owner-paypal@example.com")
    line = make_line(owner, market, plan, msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    page = client.post("/refill/", {"msisdn": "(202) 555-0143"}).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    answer = client.post(
        "/refill/pay/",
        {"msisdn": line.msisdn, "idempotency_key": key, "gift": "us-30day", "periods": "1", "pay_with": "paypal"},
    )
    payment = Payment.objects.get(gateway="paypal")
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert payment.action_url in answer.content.decode() or answer.get("Location") == payment.action_url
    back = standin.buyer(payment.provider_reference, "cancel")
    assert "cancelled=1" in back
    returned = client.get(back).content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert 'data-testid="gift-declined"' in returned and 'data-testid="refill-again"' in returned
    assert not Order.objects.filter(status=Order.Status.PAID).exists()
