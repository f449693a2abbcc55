import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.payments.models import PaymentMethod
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer()
    line = make_line(customer, market, plan)
    login(client, user)
    return customer, line


def add(client, number="4242 4242 4242 4242", expiry="12/39"):
    return client.post(
        reverse("portal:payment_methods"),
        {"action": "add", "card_number": number, "card_expiry": expiry, "card_cvc": "123", "card_holder": "Ann Lee"},
    )


def test_add_list_roles_and_remove(client, world):
    customer, line = world
    assert add(client).status_code == 302
    assert add(client, "5555 5555 5555 4444").status_code == 302
    first, second = PaymentMethod.objects.order_by("pk")
    assert first.is_default and not second.is_default
    stored = " ".join(str(v) for row in PaymentMethod.objects.values() for v in row.values())
    assert "4242424242424242" not in stored and "123" not in stored.split()
    page = client.get(reverse("portal:payment_methods")).content.decode()
    assert "VISA •••• 4242 (12/39)" in page and "MASTERCARD •••• 4444" in page
    client.post(reverse("portal:payment_methods"), {"action": "backup", "method": second.pk})
    client.post(reverse("portal:payment_methods"), {"action": "default", "method": second.pk})
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not second.is_backup and not first.is_default
    client.post(reverse("portal:payment_methods"), {"action": "remove", "method": first.pk})
    assert [m.pk for m in PaymentMethod.objects.filter(removed_at__isnull=True)] == [second.pk]
    assert AuditEvent.objects.filter(action__startswith="payment_method.").count() == 5


def test_bad_cards_are_refused_and_others_methods_unreachable(client, world):
    customer, line = world
    assert add(client, "1234 5678 9012 3456").status_code == 400
    assert not PaymentMethod.objects.exists()
    add(client)
    method = PaymentMethod.objects.get()
    other_customer, other = make_customer()
    login(client, other)
    assert client.post(reverse("portal:payment_methods"), {"action": "remove", "method": method.pk}).status_code == 404
    method.refresh_from_db()
    assert method.removed_at is None


def test_renew_with_a_saved_card(client, world):
    customer, line = world
    add(client)
    method = PaymentMethod.objects.get()
    page = client.get(reverse("portal:renew", args=[line.pk])).content.decode()
    assert f'data-testid="pay-saved-{method.pk}"' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    response = client.post(
        reverse("portal:renew", args=[line.pk]),
        {
            "plan": "us-30day",
            "periods": 1,
            "idempotency_key": key,
            "expected_total": total,
            "pay_with": f"saved-{method.pk}",
            "action": "pay",
        },
    )
    assert response.status_code == 302 and "confirmation" in response.url
    assert Period.objects.filter(line=line).count() == 1
    assert Decimal(line.orders.get().payments.get().amount) == Decimal("25.00")


def test_expiring_card_reminder_once_a_month_before(
    client, world, mailoutbox, django_capture_on_commit_callbacks, _sms_outbox
):
    import datetime as dt

    from refill.notifications.services import card_expiry_reminders_send

    customer, line = world
    customer.users.update(phone="+12025550111")
    add(client, expiry="03/30")
    # Noon in New York, outside the SMS quiet hours.
    with (
        time_machine.travel(dt.datetime(2030, 3, 1, 17, 0, tzinfo=dt.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert card_expiry_reminders_send(today=dt.date(2030, 2, 20)) == 0  # expires 31 Mar: over a month away
        assert card_expiry_reminders_send(today=dt.date(2030, 3, 1)) == 1
        assert card_expiry_reminders_send(today=dt.date(2030, 3, 2)) == 0  # once per card and expiry
    assert "VISA •••• 4242" in mailoutbox[-1].subject and "expires on 31 Mar." in mailoutbox[-1].body
    assert [m["to"] for m in _sms_outbox] == ["+12025550111"] and "/payment-methods/" in _sms_outbox[0]["body"]
