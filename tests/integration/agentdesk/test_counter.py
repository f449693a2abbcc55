from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.ledger.models import Account
from refill.ledger.services import account_balance, account_for, wallet_balance
from refill.orders.models import Receipt
from refill.vouchers.services import voucher_batch_generate
from tests.factories import login, renew

from .conftest import renew_at_counter, topup_at_counter, verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def counter(client, agent, customer_line):
    """An agent of a shop, with the customer at the counter verified by their shop PIN."""
    customer, line = customer_line
    verify_by_pin(client, line)
    return agent, customer, line


def test_find_a_number_and_take_cash(client, counter):
    agent, customer, line = counter
    page = client.get(reverse("agentdesk:desk"), {"msisdn": "(202) 555-0143"})
    assert 'data-testid="agent-line"' in page.content.decode()
    key = page.context["cash_form"].initial["idempotency_key"]
    client.post(reverse("agentdesk:cash_topup", args=[line.pk]), {"amount": "20.00", "idempotency_key": key})
    client.post(reverse("agentdesk:cash_topup", args=[line.pk]), {"amount": "20.00", "idempotency_key": key})  # replay
    assert wallet_balance(customer, "USD") == Decimal("20.00")
    assert account_balance(account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")) == Decimal(
        "20.00"
    )
    assert Receipt.objects.filter(order__customer=customer, number__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="order.paid", actor_label="shop@example.com").exists()


def test_redeem_a_pin_at_the_counter(client, counter):
    agent, customer, line = counter
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    response = client.post(reverse("agentdesk:redeem_pin", args=[line.pk]), {"pin": pins[0][1]}, follow=True)
    assert "$10.00 was added to +1 202-555-0143." in response.content.decode()
    assert wallet_balance(customer, "USD") == Decimal("10.00")


def test_unknown_number_and_customers_are_kept_out(client, counter):
    agent, customer, line = counter
    page = client.get(reverse("agentdesk:desk"), {"msisdn": "+12025550999"})
    assert "could not find that phone number" in page.content.decode()
    login(client, customer.users.get())
    assert client.get(reverse("agentdesk:desk")).status_code == 403
    assert (
        client.post(
            reverse("agentdesk:cash_topup", args=[line.pk]), {"amount": "5", "idempotency_key": "x"}
        ).status_code
        == 403
    )
    assert wallet_balance(customer, "USD") == 0
    assert timezone.now() and renew  # keep imports used


def test_unknown_or_released_lines_are_not_served(client, counter):
    agent, customer, line = counter
    assert (
        client.post(reverse("agentdesk:cash_topup", args=[999999]), {"amount": "5", "idempotency_key": "x"}).status_code
        == 404
    )
    type(line).objects.filter(pk=line.pk).update(status="ported_out")
    assert (
        client.post(
            reverse("agentdesk:cash_topup", args=[line.pk]), {"amount": "5", "idempotency_key": "x"}
        ).status_code
        == 404
    )
    page = client.get(reverse("agentdesk:desk"), {"msisdn": "+12025550143"})
    assert 'data-testid="agent-line"' not in page.content.decode()


def test_counter_typos_do_not_lock_the_customer_out(client, counter):
    agent, customer, line = counter
    for index in range(6):
        client.post(reverse("agentdesk:redeem_pin", args=[line.pk]), {"pin": f"12341234123412{index:02d}"})
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    from refill.vouchers.services import voucher_redeem

    voucher_redeem(pin=pins[0][1], customer=customer, ip="10.1.1.1")  # the customer is not locked out
    assert wallet_balance(customer, "USD") == Decimal("10.00")


def test_a_cash_payment_is_refunded_to_the_wallet_only(client, counter, plan):
    """A renewal paid in cash at the counter is refunded into the customer's wallet, never "to how
    it was paid" (there is no card to send it to); a cash top-up already is wallet money."""
    from refill.orders.models import Order
    from refill.orders.refunds import RefundRefused, order_refund

    agent, customer, line = counter
    assert renew_at_counter(client, line, plan, pay="cash").status_code == 302
    order = Order.objects.get(customer=customer, line=line, status="paid")
    assert order.payments.get(status="succeeded").method == "cash"
    drawer = account_for(Account.Purpose.SHOP_CASH, "USD", reference=f"agent-{agent.pk}")
    assert wallet_balance(customer, "USD") == 0 and account_balance(drawer) == Decimal("25.00")

    with pytest.raises(RefundRefused, match="paid in cash"):
        order_refund(order=order, amount=Decimal("5.00"), destination="original", reason="x", idempotency_key="r1")
    assert not order.refunds.exists() and wallet_balance(customer, "USD") == 0

    refund = order_refund(order=order, amount=Decimal("5.00"), destination="wallet", reason="x", idempotency_key="r2")
    assert (refund.status, refund.wallet_amount, refund.card_amount) == ("succeeded", Decimal("5.00"), Decimal(0))
    assert wallet_balance(customer, "USD") == Decimal("5.00")
    assert account_balance(drawer) == Decimal("25.00")  # the drawer still owes the cash it took

    topup_at_counter(client, line)
    topup = Order.objects.get(customer=customer, line__isnull=True)
    for destination in ("original", "wallet"):
        with pytest.raises(RefundRefused):
            order_refund(
                order=topup, amount=Decimal(5), destination=destination, reason="x", idempotency_key=f"t{destination}"
            )
    assert wallet_balance(customer, "USD") == Decimal("25.00")
    receipt_page = client.get(f"/orders/{order.pk}/")  # agents have no customer: not their page
    assert receipt_page.status_code == 404


def test_an_agent_turns_on_auto_renew_for_the_customer_and_it_is_audited(client, counter):
    from refill.renewals.models import AutoRenew

    agent, customer, line = counter
    page = client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn}).content.decode()
    assert 'data-testid="agent-auto-renew"' in page
    client.post(
        reverse("agentdesk:auto_renew", args=[line.pk]),
        {"enabled": "on", "cap_per_month": "40", "use_wallet": "on", "use_default_method": "on"},
    )
    settings = AutoRenew.objects.get(line=line)
    assert settings.enabled and settings.cap_per_month == 40
    assert AuditEvent.objects.filter(action="autorenew.update", actor_label="shop@example.com").exists()
    client.post(reverse("agentdesk:auto_renew", args=[line.pk]), {"enabled": "on", "cap_per_month": "-1"})
    assert AutoRenew.objects.get(line=line).cap_per_month == 40  # refused, unchanged
