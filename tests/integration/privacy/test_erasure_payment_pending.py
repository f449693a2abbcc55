"""Account deletion waits for a payment in progress (docs/privacy.md, ``erasure_payment_pending``):
its outcome may still grant a period or credit the wallet, and the customer must be there to get it.
The payments are made through the real services with the sandbox's cards for each state."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.customers.privacy import PaymentPending, customer_erase, customer_is_erased, erasure_blockers
from refill.orders.checkout import order_create_renewal
from refill.orders.paying import order_pay_card
from refill.payments.models import Payment, PaymentMethod
from tests.factories import card_token, login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-1234"
CARDS = {
    Payment.Status.UNKNOWN: "4000000000000341",  # charged, the answer lost: reconciliation will tell
    Payment.Status.PENDING: "4000000000000259",  # lost before the bank answered; then retried below
    Payment.Status.REQUIRES_ACTION: "4000000000003162",  # waiting for the bank's 3-D Secure step
}


@pytest.fixture
def customer_paying(request):
    """A customer nothing else keeps from deletion (their one paid period ended long ago, wallet
    empty), with one renewal whose payment is in ``request.param``'s state."""
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("paying@example.com", password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550143")
    renew(line, plan, now=timezone.now() - timedelta(days=90))
    assert erasure_blockers(customer) == []
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="in-flight")
    gateway, token = card_token(CARDS[request.param])
    payment = order_pay_card(order=order, token=token, gateway=gateway)
    if request.param == Payment.Status.PENDING:
        # A payment row is written as pending before the provider is asked; a process that died in
        # between leaves it so (the reaper settles it later). This is that moment.
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)
    payment.refresh_from_db()
    assert payment.status == request.param
    return customer, user, payment


@pytest.mark.parametrize("customer_paying", list(CARDS), indirect=True)
def test_erasure_is_refused_while_a_payment_is_in_progress(client, customer_paying):
    customer, user, payment = customer_paying
    with pytest.raises(PaymentPending) as refused:
        customer_erase(customer=customer, actor=user)
    assert refused.value.code == "erasure_payment_pending"
    login(client, user)
    page = client.get(reverse("portal:privacy")).content.decode()
    assert 'data-testid="privacy-blockers"' in page and 'data-testid="privacy-erase"' not in page
    asked = client.post(reverse("portal:privacy_erase"), {"password": PASSWORD, "confirm": "yes"}, follow=True)
    assert str(PaymentPending.message) in asked.content.decode()
    # Nothing was erased.
    user.refresh_from_db()
    customer.refresh_from_db()
    assert user.is_active and user.email == "paying@example.com" and customer.display_name
    assert not customer_is_erased(customer) and not AuditEvent.objects.filter(action="privacy.erase").exists()


@pytest.mark.parametrize("customer_paying", [Payment.Status.PENDING], indirect=True)
def test_erasure_goes_ahead_once_the_payment_has_settled(customer_paying):
    customer, user, payment = customer_paying
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)  # the bank never charged it
    assert erasure_blockers(customer) == []
    customer_erase(customer=customer, actor=user)
    assert customer_is_erased(customer)
    assert not PaymentMethod.objects.filter(customer=customer, removed_at__isnull=True).exists()
