import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.customers.models import Customer, User
from refill.customers.privacy import (
    PeriodRunning,
    WalletNotEmpty,
    customer_erase,
    customer_is_erased,
)
from refill.integrations.payments.sandbox import SandboxGateway
from refill.invariants.checks import run_all
from refill.ledger.models import JournalLine
from refill.ledger.services import wallet_adjust
from refill.notifications.models import Notification
from refill.orders.models import Order, Receipt
from refill.payments.models import Payment, PaymentMethod
from refill.renewals.autorenew import autorenew_update
from refill.renewals.models import AutoRenew
from refill.subscriptions.models import Period
from tests.factories import card_details, login, make_customer, make_line, make_market, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-1234"


def _save_card(customer, number="4242424242424242"):
    from refill.payments.services import method_add

    return method_add(customer=customer, gateway=SandboxGateway(), card=card_details(number))


def _notice(customer, key="1"):
    return Notification.objects.create(
        rule="expiry_7d",
        subject_key=f"{customer.pk}:{key}",
        customer=customer,
        language="en",
        recipient=customer.email_address(),
        subject="Your line expires soon",
        body="Hello Ada, renew +12025550143",
        status=Notification.Status.SENT,
    )


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    return market, plan


@pytest.fixture
def ada(world):
    """A customer whose one paid period ended long ago: nothing stops erasure."""
    market, plan = world
    customer, user = make_customer("ada@example.com")
    Customer.objects.filter(pk=customer.pk).update(shop_pin_hash="x" * 40, segments=["student"])
    customer.refresh_from_db()
    User.objects.filter(pk=user.pk).update(phone="+12025550199")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    order, payment = renew(line, plan, now=timezone.now() - timedelta(days=90))
    _save_card(customer)
    autorenew_update(line=line, actor=user, enabled=True)
    _notice(customer)
    return customer, user, line, order


@pytest.fixture
def bob(world):
    market, plan = world
    customer, user = make_customer("bob@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550177")
    order, _ = renew(line, plan)
    _save_card(customer, "5555555555554444")
    _notice(customer, "bob")
    return customer, user, line, order


def _download(client):
    return client.post(reverse("portal:privacy_export"))


def test_export_holds_the_customers_data_and_nothing_of_anyone_else(client, ada, bob):
    customer, user, line, order = ada
    login(client, user)
    # when
    response = _download(client)
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    data = json.loads(text)
    assert data["customer"]["id"] == customer.pk
    assert [login["email"] for login in data["logins"]] == ["ada@example.com"]
    assert "password" not in json.dumps(data["logins"])
    assert [item["msisdn"] for item in data["lines"]] == ["+12025550143"]
    assert data["lines"][0]["auto_renew"]["enabled"] is True
    assert len(data["periods"]) == 1 and data["buckets"]
    assert [o["id"] for o in data["orders"]] == [order.pk]
    assert data["orders"][0]["items"][0]["periods"] == 1
    assert data["payments"][0]["card_last4"] == "4242"
    assert data["saved_payment_methods"][0]["last4"] == "4242"
    assert data["notifications"][0]["body"].startswith("Hello Ada")
    assert any(event["action"] == "autorenew.update" for event in data["audit_events"])
    # no secrets: no password hash, provider token or reference, never a full card number
    method = PaymentMethod.objects.get(customer=customer)
    payment = Payment.objects.get(order=order)
    assert user.password not in text
    assert method.token not in text
    assert payment.provider_reference not in text and payment.idempotency_key not in text
    assert "4242424242424242" not in text
    # nothing of Bob's
    bob_customer, bob_user, bob_line, bob_order = bob
    assert "bob@example.com" not in text and "+12025550177" not in text
    # (Bob's card ends 5555: looked for where card digits are, not anywhere in the text, where a
    # timestamp or a random serial may hold those four digits)
    assert "5555" not in [m["last4"] for m in data["saved_payment_methods"]]
    assert "5555" not in [p["card_last4"] for p in data["payments"]]
    assert str(bob_order.total) not in [o["total"] for o in data["orders"] if o["id"] == bob_order.pk]
    assert bob_order.pk not in [o["id"] for o in data["orders"]]
    # audited
    assert AuditEvent.objects.filter(
        action="privacy.export", object_type="customers.customer", object_id=str(customer.pk), actor=user
    ).exists()


def test_export_lists_the_wallet_statement(client, ada):
    customer, user, line, order = ada
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("5.00"), reason="goodwill", key="gw-1")
    login(client, user)
    data = json.loads(_download(client).content)
    assert [(row["amount"], row["currency"]) for row in data["wallet_statement"]] == [("5.0000", "USD")]


def test_export_is_limited_to_once_a_minute(client, ada):
    customer, user, *_ = ada
    login(client, user)
    assert _download(client).status_code == 200
    # when asked again at once
    again = _download(client)
    # then the customer is sent back to the privacy page with the reason
    assert again.status_code == 302 and again.url == reverse("portal:privacy")
    page = client.get(again.url)
    assert "less than a minute ago" in page.content.decode()
    assert AuditEvent.objects.filter(action="privacy.export", object_id=str(customer.pk)).count() == 1


def test_privacy_page_is_linked_from_settings(client, ada):
    customer, user, *_ = ada
    login(client, user)
    settings_page = client.get(reverse("portal:preferences")).content.decode()
    assert reverse("portal:privacy") in settings_page
    page = client.get(reverse("portal:privacy"))
    assert page.status_code == 200 and 'data-testid="privacy-erase"' in page.content.decode()


def test_pages_need_a_login(client):
    assert client.get(reverse("portal:privacy")).status_code == 302
    assert client.post(reverse("portal:privacy_export")).status_code == 302


def test_erasure_anonymises_and_keeps_financial_records(client, ada, bob):
    customer, user, line, order = ada
    bob_customer = bob[0]
    entries_before = JournalLine.objects.count()
    receipt_before = Receipt.objects.filter(order=order).values("number", "total").first()
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, email="ada@example.com", password=PASSWORD) == user
    login(client, user)
    # when
    response = client.post(reverse("portal:privacy_erase"), {"password": PASSWORD, "confirm": "yes"})
    # then the customer is signed out
    assert response.status_code == 302 and response.url == reverse("portal:landing")
    assert client.get(reverse("portal:home")).status_code == 302
    # personal data is gone
    customer.refresh_from_db()
    user.refresh_from_db()
    assert customer.display_name == "" and customer.shop_pin_hash == "" and customer.segments == []
    assert user.email == f"erased-{user.pk}@erased.invalid" and user.phone is None
    assert not user.is_active and not user.has_usable_password()
    assert not user.emailaddress_set.exists()
    assert authenticate(request, username="ada@example.com", password=PASSWORD) is None
    assert authenticate(request, email="ada@example.com", password=PASSWORD) is None
    # saved cards are forgotten
    methods = PaymentMethod.objects.filter(customer=customer)
    assert all(m.removed_at is not None and m.token == "" for m in methods)
    # notices are blanked
    notice = Notification.objects.get(customer=customer)
    assert (notice.recipient, notice.subject, notice.body) == ("", "", "")
    # auto-renew is off; the line stays with the customer until it lapses
    assert AutoRenew.objects.get(line=line).enabled is False
    line.refresh_from_db()
    assert line.owner_id == customer.pk
    # money records are kept, and still add up
    assert Order.objects.filter(pk=order.pk, status=Order.Status.PAID).exists()
    assert Receipt.objects.filter(order=order).values("number", "total").first() == receipt_before
    assert Period.objects.filter(line=line).count() == 1
    assert JournalLine.objects.count() == entries_before
    assert run_all() == []
    # recorded, and visible as such
    event = AuditEvent.objects.get(action="privacy.erase", object_id=str(customer.pk))
    assert event.object_type == "customers.customer" and event.actor_id == user.pk
    assert "ada@example.com" not in event.actor_label
    assert customer_is_erased(customer) and not customer_is_erased(bob_customer)
    # Bob is untouched
    bob_customer.refresh_from_db()
    assert bob_customer.display_name == "bob"
    assert PaymentMethod.objects.get(customer=bob_customer).token != ""
    assert Notification.objects.get(customer=bob_customer).body != ""


def test_erasure_needs_the_password(client, ada):
    customer, user, *_ = ada
    login(client, user)
    response = client.post(reverse("portal:privacy_erase"), {"password": "wrong", "confirm": "yes"}, follow=True)
    assert "Enter your password" in response.content.decode()
    customer.refresh_from_db()
    assert customer.display_name == "ada" and not customer_is_erased(customer)


def test_erasure_is_refused_while_a_paid_period_runs(client, bob):
    customer, user, *_ = bob
    login(client, user)
    page = client.get(reverse("portal:privacy")).content.decode()
    assert 'data-testid="privacy-blockers"' in page and 'data-testid="privacy-erase"' not in page
    response = client.post(reverse("portal:privacy_erase"), {"password": PASSWORD, "confirm": "yes"}, follow=True)
    assert str(PeriodRunning.message) in response.content.decode()
    user.refresh_from_db()
    assert user.is_active and not customer_is_erased(customer)
    with pytest.raises(PeriodRunning):
        customer_erase(customer=customer, actor=user)


def test_erasure_is_refused_while_the_wallet_holds_money(ada):
    customer, user, *_ = ada
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("3.00"), reason="goodwill", key="gw-2")
    with pytest.raises(WalletNotEmpty):
        customer_erase(customer=customer, actor=user)
    customer.refresh_from_db()
    assert customer.display_name == "ada"
    assert not AuditEvent.objects.filter(action="privacy.erase").exists()


def test_a_customer_without_lines_can_be_erased_by_the_service(world):
    customer, user = make_customer("solo@example.com")
    customer_erase(customer=customer, actor=None, reason="support ticket 12")
    user.refresh_from_db()
    assert not user.is_active and user.email.endswith("@erased.invalid")
    event = AuditEvent.objects.get(action="privacy.erase", object_id=str(customer.pk))
    assert event.reason == "support ticket 12" and event.actor_label == "system"
    # Staff see on the customer 360 that the personal data is gone at the customer's request.
    from django.test import Client

    from tests.factories import login

    support = make_staff("support", "support-privacy@example.com")
    client = Client()
    login(client, support)
    page = client.get(f"/backoffice/customers/{customer.pk}/")
    assert page.status_code == 200 and b'data-testid="erased"' in page.content


def test_erasure_forgets_the_customer_as_a_gift_payer_and_in_login_records(world, bob):
    """A gift refill they paid as a guest stays the recipient's order, without their address; the
    records of their login attempts go."""
    from axes.models import AccessAttempt, AccessLog

    market, plan = world
    customer, user = make_customer("giver@example.com")
    bob_customer, _bob_user, bob_line, bob_order = bob
    fields = {
        f.name: getattr(bob_order, f.name)
        for f in Order._meta.concrete_fields
        if f.name not in ("id", "idempotency_key", "payer", "payer_email", "payer_ip", "gift_line")
    }
    gift = Order.objects.create(
        **{**fields, "idempotency_key": "gift-1", "status": "cancelled", "paid_at": None},
        payer=Order.Payer.GUEST, payer_email="Giver@Example.com", payer_ip="203.0.113.9", gift_line=bob_line,
    )  # fmt: skip
    other_gift = Order.objects.create(
        **{**fields, "idempotency_key": "gift-2", "status": "cancelled", "paid_at": None},
        payer=Order.Payer.GUEST, payer_email="someone@example.com", payer_ip="203.0.113.10", gift_line=bob_line,
    )  # fmt: skip
    AccessAttempt.objects.create(username="giver@example.com", ip_address="203.0.113.9", failures_since_start=2)
    AccessLog.objects.create(username="giver@example.com", ip_address="203.0.113.9")
    AccessLog.objects.create(username="bob@example.com", ip_address="203.0.113.11")

    customer_erase(customer=customer, actor=None)

    gift.refresh_from_db()
    other_gift.refresh_from_db()
    assert (gift.payer_email, gift.payer_ip, gift.customer_id) == ("", None, bob_customer.pk)
    assert other_gift.payer_email == "someone@example.com"
    assert not AccessAttempt.objects.filter(username="giver@example.com").exists()
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["bob@example.com"]
