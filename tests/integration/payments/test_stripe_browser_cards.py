"""Cards tokenised in the browser by Stripe.js (docs/payments.md, "Stripe"): every card form shows
Stripe's card field and posts only the PaymentMethod reference; the Content-Security-Policy allows
Stripe's script only while Stripe takes cards; the bank's step runs in the page; a card saved this
way is charged off session by auto-renew; the Apple Pay domain file. Against localstripe, with the
card made into a PaymentMethod the way Stripe.js does (publishable key, straight to the provider)."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP, build_policy

from refill.orders.models import Order
from refill.payments.models import Payment, PaymentMethod
from refill.renewals.autorenew import autorenew_sweep, autorenew_update
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.integration.api.clients import Client as ApiClient
from tests.localstripe_server import LocalStripe
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def localstripe():
    with LocalStripe() as server:
        yield server


def stripe_settings(localstripe_url: str, js_url: str) -> dict:
    return {
        "REFILL_PAYMENT_GATEWAY": "stripe",
        "REFILL_STRIPE_SECRET_KEY": LocalStripe.SECRET_KEY,
        "REFILL_STRIPE_WEBHOOK_SECRET": "whsec_browser_cards",
        "REFILL_STRIPE_API_BASE": localstripe_url,
        "REFILL_STRIPE_PUBLISHABLE_KEY": LocalStripe.PUBLISHABLE_KEY,
        "REFILL_STRIPE_JS_URL": js_url,
    }


@pytest.fixture
def stripe_on(localstripe):
    with override_settings(**stripe_settings(localstripe.url, localstripe.js_url)):
        yield localstripe


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer()
    line = make_line(customer, market, plan)
    login(client, user)
    return plan, customer, line


def policy(response) -> dict[str, list[str]]:
    parts = (directive.split(" ") for directive in response["Content-Security-Policy"].split("; "))
    return {part[0]: part[1:] for part in parts}


def renew_form(client, line, **card) -> dict:
    page = client.get(reverse("portal:renew", args=[line.pk])).content.decode()
    return {
        "plan": "us-30day",
        "periods": 1,
        "idempotency_key": re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1),
        "expected_total": re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1),
        "pay_with": "card",
        "action": "pay",
        **card,
    }


# Content-Security-Policy ----------------------------------------------------------------------


def test_the_policy_is_unchanged_while_cards_are_typed_into_refills_own_form(client, settings):
    settings.REFILL_PAYMENT_GATEWAY = "sandbox"
    response = client.get("/")
    assert response["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    assert "stripe" not in response["Content-Security-Policy"]


def test_the_policy_allows_stripes_script_frames_and_api_only_while_stripe_takes_cards(client, settings):
    live = stripe_settings("https://api.stripe.com", "https://js.stripe.com/v3/")
    with override_settings(**live):
        got = policy(client.get("/"))
    assert got["script-src"] == [CSP.SELF, "https://js.stripe.com"]
    assert got["frame-src"] == ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"]
    assert got["connect-src"] == [CSP.SELF, "https://api.stripe.com"]
    # Everything else is Refill's own policy.
    assert got["default-src"] == [CSP.SELF] and got["object-src"] == [CSP.NONE] and got["frame-ancestors"] == [CSP.NONE]
    # Stripe configured, but cards routed to the sandbox: the policy is Refill's own again.
    with override_settings(**live, REFILL_PAYMENT_ROUTES={"card": "sandbox"}):
        assert client.get("/")["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    # Stripe without a publishable key takes no cards: no script of Stripe's is allowed either.
    with override_settings(**{**live, "REFILL_STRIPE_PUBLISHABLE_KEY": ""}):
        assert client.get("/")["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)


# The card forms -------------------------------------------------------------------------------


def test_the_renew_page_shows_stripes_card_field_and_no_card_inputs_of_refills(client, world, stripe_on):
    plan, customer, line = world
    page = client.get(reverse("portal:renew", args=[line.pk])).content.decode()
    assert 'data-testid="card-element"' in page and f'data-key="{LocalStripe.PUBLISHABLE_KEY}"' in page
    assert f'<script src="{stripe_on.js_url}" defer></script>' in page
    assert 'name="card_reference"' in page
    for field in ("card_number", "card_expiry", "card_cvc"):
        assert f'name="{field}"' not in page
    assert LocalStripe.SECRET_KEY not in page
    # The wallet button (Apple Pay, Google Pay) is given the total in minor units and the currency.
    assert 'data-pay-total-minor="2500" data-pay-currency="USD"' in page


@pytest.mark.parametrize("face", ["portal:payment_methods", "portal:wallet"])
def test_every_card_face_shows_stripes_card_field(client, world, stripe_on, face):
    page = client.get(reverse(face)).content.decode()
    assert 'data-testid="card-element"' in page and 'name="card_number"' not in page


def test_a_card_made_by_stripe_js_pays_the_renewal(client, world, stripe_on):
    plan, customer, line = world
    reference = stripe_on.browser_payment_method("4242424242424242")
    response = client.post(reverse("portal:renew", args=[line.pk]), renew_form(client, line, card_reference=reference))
    assert response.status_code == 302 and "/confirmation/" in response.url
    payment = Payment.objects.get(method="card")
    assert (payment.status, payment.gateway, payment.card_last4) == ("succeeded", "stripe", "4242")
    assert Order.objects.get().status == Order.Status.PAID and Period.objects.filter(line=line).count() == 1


def test_typed_card_details_are_not_taken_when_stripe_takes_cards(client, world, stripe_on):
    """A form posted with a number (an old page, a script) and no reference: refused with the card
    field's message, nothing charged, nothing sent to Stripe."""
    plan, customer, line = world
    typed = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}
    response = client.post(reverse("portal:renew", args=[line.pk]), renew_form(client, line, **typed))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="card-element-error"' in page and "Enter your card in the card field." in page
    assert "4242 4242 4242 4242" not in page and "4242424242424242" not in page
    assert not Payment.objects.filter(method="card").exists()


def test_a_declined_card_changes_nothing(client, world, stripe_on):
    plan, customer, line = world
    reference = stripe_on.browser_payment_method("4000000000000341")  # localstripe: attaches, charge declined
    response = client.post(reverse("portal:renew", args=[line.pk]), renew_form(client, line, card_reference=reference))
    assert response.status_code == 402  # Payment Required: the decline is shown on the page
    payment = Payment.objects.get(method="card")
    assert (payment.status, payment.decline_code) == ("failed", "do_not_honour")
    assert not Period.objects.filter(line=line).exists()


def test_a_reference_stripe_does_not_know_is_refused_before_any_charge(client, world, stripe_on):
    plan, customer, line = world
    response = client.post(
        reverse("portal:renew", args=[line.pk]), renew_form(client, line, card_reference="pm_madeup000000")
    )
    assert response.status_code == 402
    assert not Payment.objects.filter(method="card", status="succeeded").exists()
    assert not Period.objects.filter(line=line).exists()


@pytest.mark.parametrize("success", [True, False])
def test_three_d_secure_in_the_page_then_back_for_the_answer(client, world, stripe_on, success):
    plan, customer, line = world
    reference = stripe_on.browser_payment_method("4000002500003155")  # localstripe's 3-D Secure card
    response = client.post(reverse("portal:renew", args=[line.pk]), renew_form(client, line, card_reference=reference))
    payment = Payment.objects.get(method="card")
    return_url = reverse("portal:payment_return", args=[payment.order_id])
    assert payment.status == "requires_action" and response.url.endswith(return_url)
    step = client.get(return_url)
    page = step.content.decode()
    assert 'data-testid="bank-step"' in page and step["Cache-Control"] == "no-store"
    secret = re.search(r'data-secret="([^"]+)"', page).group(1)
    assert secret.startswith(payment.provider_reference + "_secret_")
    # What Stripe.js does in the page when the customer confirms (or fails) at the bank.
    stripe_on.authenticate(payment.provider_reference, secret, success=success)
    back = client.get(return_url + "?after=1")
    payment.refresh_from_db()
    if success:
        assert back.url.endswith("/confirmation/") and payment.status == "succeeded"
        assert Period.objects.filter(line=line).count() == 1
    else:
        assert (payment.status, payment.decline_code) == ("failed", "authentication_failed")
        assert not Period.objects.filter(line=line).exists()


def test_back_without_confirming_shows_the_order_and_leaves_the_attempt_to_reconciliation(client, world, stripe_on):
    plan, customer, line = world
    reference = stripe_on.browser_payment_method("4000002500003155")
    client.post(reverse("portal:renew", args=[line.pk]), renew_form(client, line, card_reference=reference))
    payment = Payment.objects.get(method="card")
    back = client.get(reverse("portal:payment_return", args=[payment.order_id]) + "?after=1")
    assert back.status_code == 302 and back.url == reverse("portal:order_detail", args=[payment.order_id])
    payment.refresh_from_db()
    assert payment.status == "requires_action"


def test_the_api_refuses_a_typed_card_while_stripe_takes_cards_with_a_problem_not_a_fault(world, stripe_on):
    plan, customer, line = world
    api = ApiClient()
    login(api, customer.users.get())
    answer = api.post(
        "/api/v1/orders",
        {
            "msisdn": line.msisdn,
            "plan": "us-30day",
            "pay_with": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"},
        },
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-typed-card",
    )
    assert answer.status_code == 422 and answer.json()["code"] == "payment_capability_missing"
    assert "4242" not in answer.content.decode()
    assert not Payment.objects.filter(method="card").exists()


# Saved cards and auto-renew -------------------------------------------------------------------


def test_a_card_saved_in_the_account_is_kept_at_stripe_and_never_at_refill(client, world, stripe_on):
    reference = stripe_on.browser_payment_method("4242424242424242")
    response = client.post(
        reverse("portal:payment_methods"), {"action": "add", "card_reference": reference, "card_holder": "Ann Lee"}
    )
    assert response.status_code == 302
    method = PaymentMethod.objects.get()
    assert (method.gateway, method.token, method.last4, method.holder) == ("stripe", reference, "4242", "Ann Lee")
    assert method.provider_customer.startswith("cus_")


@pytest.mark.django_db(transaction=True)
def test_a_card_saved_through_stripe_js_is_charged_off_session_by_auto_renew(localstripe):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("autorenew-stripe@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550177")
    t0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        renew(line, plan)
    with override_settings(**stripe_settings(localstripe.url, localstripe.js_url)):
        client = Client()
        login(client, user)
        reference = localstripe.browser_payment_method("4242424242424242")
        client.post(reverse("portal:payment_methods"), {"action": "add", "card_reference": reference})
        method = PaymentMethod.objects.get()
        autorenew_update(line=line, actor=None, enabled=True)
        line.refresh_from_db()
        end = line.period_end
        with time_machine.travel(end - timedelta(hours=23), tick=False):
            autorenew_sweep()
    charged = Payment.objects.filter(gateway="stripe").get()
    assert (charged.status, charged.card_last4) == ("succeeded", "4242")
    intent = localstripe_intent(localstripe, charged.provider_reference)
    assert (intent["customer"], intent["payment_method"]) == (method.provider_customer, method.token)
    line.refresh_from_db()
    assert line.period_end > end


def localstripe_intent(localstripe, reference: str) -> dict:
    address = f"{localstripe.url}/v1/payment_intents/{reference}"
    request = urllib.request.Request(address, headers={"Authorization": f"Bearer {LocalStripe.SECRET_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


# Apple Pay's domain check ---------------------------------------------------------------------


def test_the_apple_pay_domain_file_is_served_only_when_the_operator_gives_one(client, settings, tmp_path):
    url = "/.well-known/apple-developer-merchantid-domain-association"
    settings.REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE = ""
    assert client.get(url).status_code == 404
    settings.REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE = str(tmp_path / "missing")
    assert client.get(url).status_code == 404
    association = tmp_path / "apple-developer-merchantid-domain-association"
    association.write_bytes(b"7B2270737049..." * 4)
    settings.REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE = str(association)
    served = client.get(url)
    assert served.status_code == 200 and served.content == association.read_bytes()
    assert served["Content-Type"].startswith("text/plain")
    assert client.post(url).status_code == 405


# The guest refill ("Refill any number", no account) ---------------------------------------------


def guest_checkout(client) -> str:
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    owner, _ = make_customer("owner-guest@example.com")
    line = make_line(owner, market, plan, msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    page = client.post("/refill/", {"msisdn": "(202) 555-0143"}).content.decode()
    assert 'data-testid="card-element"' in page and 'name="card_number"' not in page, visible_text(page)
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)


def guest_pay(client, key: str, reference: str):
    data = {"msisdn": "+12025550143", "idempotency_key": key, "gift": "us-30day", "periods": "1", "pay_with": "card"}
    return client.post("/refill/pay/", {**data, "card_reference": reference, "payer_email": "guest@example.com"})


def test_a_guest_pays_with_a_card_made_by_stripe_js(stripe_on):
    client = Client()
    key = guest_checkout(client)
    guest_pay(client, key, stripe_on.browser_payment_method("4242424242424242"))
    payment = Payment.objects.get(method="card")
    assert (payment.status, payment.gateway, payment.card_last4) == ("succeeded", "stripe", "4242")
    assert payment.order.status == Order.Status.PAID


def test_a_guest_confirms_with_the_bank_in_the_page(stripe_on):
    client = Client()
    key = guest_checkout(client)
    answer = guest_pay(client, key, stripe_on.browser_payment_method("4000002500003155"))
    payment = Payment.objects.get(method="card")
    assert payment.status == "requires_action"
    step = client.get(answer.url)
    page = step.content.decode()
    assert 'data-testid="bank-step"' in page
    secret = re.search(r'data-secret="([^"]+)"', page).group(1)
    stripe_on.authenticate(payment.provider_reference, secret, success=True)
    back = client.get(answer.url + "?after=1")
    assert 'data-testid="gift-paid"' in back.content.decode()
    payment.refresh_from_db()
    assert payment.status == "succeeded"
