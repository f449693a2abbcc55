"""Verifying the customer at the counter: until then the agent sees only the number, its status
and plan; the customer proves the line is theirs with their shop PIN or a code sent to the number.
Every verification and failed attempt is audited, and every action refuses an unverified line."""

import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from refill.agentdesk import services as agentdesk_services
from refill.agentdesk.models import OneTimeCode
from refill.audit.models import AuditEvent
from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.renewals.models import AutoRenew
from refill.vouchers.services import voucher_batch_generate
from tests.factories import make_customer, make_line
from tests.pagetext import visible_text

from .conftest import verify_by_pin

pytestmark = pytest.mark.django_db


def desk(client, line):
    return client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn}).content.decode()


def send_code(client, line):
    return client.post(reverse("agentdesk:send_code", args=[line.pk]), follow=True).content.decode()


def enter_code(client, line, code):
    return client.post(reverse("agentdesk:verify_code", args=[line.pk]), {"code": code}, follow=True).content.decode()


def sent_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1]["body"]).group(1)


def audited(action: str, line, **data) -> int:
    events = AuditEvent.objects.filter(action=action, object_type="lines.line", object_id=str(line.pk))
    return sum(1 for event in events if all(event.data.get(k) == v for k, v in data.items()))


def test_before_verification_the_agent_sees_only_number_status_and_plan(client, agent, customer_line):
    customer, line = customer_line
    page = desk(client, line)
    assert "+1 202-555-0143" in page and "30-Day Plan" in page and 'data-testid="line-status"' in page
    assert 'data-testid="verify"' in page
    assert "Alice Example" not in page  # no owner name
    assert 'data-testid="wallet"' not in page and "$0.00" not in page  # no balance
    assert "Valid until" not in page
    assert 'data-testid="renew"' not in page and 'data-testid="cash-topup"' not in page


def test_the_shop_pin_verifies_the_customer_and_it_is_audited(client, agent, customer_line):
    customer, line = customer_line
    page = verify_by_pin(client, line).content.decode()
    assert "Customer verified" in page
    assert 'data-testid="verified"' in page and "Alice Example" in page and 'data-testid="wallet"' in page
    assert audited("agentdesk.verified", line, method="pin", shop="main-st") == 1
    assert AuditEvent.objects.get(action="agentdesk.verified").actor_label == "shop@example.com"


def test_a_wrong_shop_pin_is_refused_audited_and_locks_after_five(client, agent, customer_line):
    customer, line = customer_line
    for _ in range(5):
        page = verify_by_pin(client, line, pin="1111").content.decode()
        assert "That shop PIN is not right" in page
    assert audited("agentdesk.verify_failed", line, method="pin", reason="wrong") == 5
    # then even the right PIN is refused for an hour: a counter cannot guess it
    page = verify_by_pin(client, line).content.decode()
    assert "Too many wrong shop PINs" in page and 'data-testid="verified"' not in page
    assert audited("agentdesk.verified", line) == 0
    # a code sent to the number still works
    send_code(client, line)


def test_a_customer_without_a_shop_pin_is_asked_for_a_code(client, agent, customer_line):
    customer, line = customer_line
    type(customer).objects.filter(pk=customer.pk).update(shop_pin_hash="")
    page = verify_by_pin(client, line, pin="").content.decode()
    assert 'data-testid="verified"' not in page
    page = verify_by_pin(client, line, pin="0000").content.decode()
    assert "has no shop PIN" in page
    assert audited("agentdesk.verify_failed", line, reason="no_pin") == 1


def test_a_code_sent_by_sms_verifies_and_only_its_hash_is_kept(client, agent, customer_line, _sms_outbox):
    customer, line = customer_line
    page = send_code(client, line)
    assert "A code was sent by SMS to +1 202-555-0143" in page
    assert 'data-testid="verify-code"' in page
    assert _sms_outbox[-1]["to"] == "+12025550143" and "Main Street" in _sms_outbox[-1]["body"]
    code = sent_code(_sms_outbox)
    stored = OneTimeCode.objects.get(line=line)
    assert code not in stored.code_hash and stored.expires_at == stored.created_at + timedelta(minutes=10)
    page = enter_code(client, line, code)
    assert 'data-testid="verified"' in page
    assert audited("agentdesk.code_sent", line) == 1 and audited("agentdesk.verified", line, method="code") == 1
    # used once
    client.post(reverse("agentdesk:finish"))
    assert "That code has expired" in enter_code(client, line, code)


def test_a_code_allows_five_attempts(client, agent, customer_line, _sms_outbox):
    customer, line = customer_line
    send_code(client, line)
    code = sent_code(_sms_outbox)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _attempt in range(4):
        assert "That code is not right" in enter_code(client, line, wrong)
    assert "expired or was tried too many times" in enter_code(client, line, wrong)  # the fifth
    page = enter_code(client, line, code)  # the right one, too late
    assert "expired or was tried too many times" in page and 'data-testid="verified"' not in page
    assert audited("agentdesk.verify_failed", line, method="code") == 6
    assert OneTimeCode.objects.get(line=line).attempts == 5


def test_a_code_expires_after_ten_minutes(client, agent, customer_line, _sms_outbox):
    customer, line = customer_line
    send_code(client, line)
    code = sent_code(_sms_outbox)
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        page = enter_code(client, line, code)
    assert "That code has expired" in page and 'data-testid="verified"' not in page
    assert audited("agentdesk.verify_failed", line, method="code", reason="expired") == 1


def test_codes_are_rate_limited_per_line(client, agent, customer_line, _sms_outbox):
    customer, line = customer_line
    start = timezone.now()
    send_code(client, line)
    assert "Wait a minute" in send_code(client, line)  # at once again: refused
    assert len(_sms_outbox) == 1
    for minute in range(1, 5):
        with time_machine.travel(start + timedelta(minutes=2 * minute)):
            send_code(client, line)
    assert len(_sms_outbox) == 5
    with time_machine.travel(start + timedelta(minutes=20)):
        assert "at most 5 an hour" in send_code(client, line)
    assert len(_sms_outbox) == 5
    with time_machine.travel(start + timedelta(minutes=61)):
        send_code(client, line)
    assert len(_sms_outbox) == 6
    # only the last code works
    with time_machine.travel(start + timedelta(minutes=62)):
        assert 'data-testid="verified"' in enter_code(client, line, sent_code(_sms_outbox))


def test_a_new_code_replaces_the_previous_one(client, agent, customer_line, _sms_outbox, monkeypatch):
    customer, line = customer_line
    # Two different codes, always (two random ones are the same one time in a million).
    codes = iter([111111, 222222])
    monkeypatch.setattr(agentdesk_services, "secrets", SimpleNamespace(randbelow=lambda _: next(codes)))
    start = timezone.now()
    send_code(client, line)
    first = sent_code(_sms_outbox)
    with time_machine.travel(start + timedelta(minutes=2)):
        send_code(client, line)
        second = sent_code(_sms_outbox)
        assert (first, second) == ("111111", "222222")
        assert 'data-testid="verified"' not in enter_code(client, line, first)
        assert 'data-testid="verified"' in enter_code(client, line, second)


def test_a_verification_lasts_fifteen_minutes(client, agent, customer_line):
    customer, line = customer_line
    verify_by_pin(client, line)
    renew_url = reverse("agentdesk:renew", args=[line.pk])
    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert client.get(renew_url).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        answer = client.get(renew_url)
        assert answer.status_code == 403 and "Verify the customer first" in answer.content.decode()
        assert 'data-testid="verify"' in desk(client, line)


def test_a_verification_is_for_that_line_only(client, agent, customer_line, market, plan):
    customer, line = customer_line
    other_customer, _ = make_customer("bob@example.com")
    other = make_line(other_customer, market, plan, msisdn="+12025550144")
    verify_by_pin(client, line)
    assert client.get(reverse("agentdesk:renew", args=[other.pk])).status_code == 403
    page = desk(client, other)
    assert 'data-testid="verify"' in page and "bob" not in visible_text(page)
    # verifying another line ends the first one's
    other_customer.shop_pin_hash = customer.shop_pin_hash
    other_customer.save()
    verify_by_pin(client, other)
    assert client.get(reverse("agentdesk:renew", args=[line.pk])).status_code == 403
    # and "done" ends it
    client.post(reverse("agentdesk:finish"))
    assert client.get(reverse("agentdesk:renew", args=[other.pk])).status_code == 403


def test_every_action_refuses_an_unverified_line(client, agent, customer_line, plan):
    customer, line = customer_line
    _, pins = voucher_batch_generate(count=1, face_value="10.00", currency="USD")
    attempts = [
        ("get", reverse("agentdesk:renew", args=[line.pk]), {}),
        ("get", reverse("agentdesk:renew_quote", args=[line.pk]), {"plan": plan.code}),
        ("get", reverse("agentdesk:addon_price", args=[line.pk]), {}),
        ("post", reverse("agentdesk:renew", args=[line.pk]), {"plan": plan.code, "periods": "1", "action": "wallet",
                                                              "idempotency_key": "k0", "expected_total": "25.00"}),
        ("post", reverse("agentdesk:renew", args=[line.pk]), {"plan": plan.code, "periods": "1", "action": "cash",
                                                              "idempotency_key": "k1", "expected_total": "25.00"}),
        ("post", reverse("agentdesk:cash_topup", args=[line.pk]), {"amount": "20.00", "idempotency_key": "k2"}),
        ("post", reverse("agentdesk:redeem_pin", args=[line.pk]), {"pin": pins[0][1]}),
        ("post", reverse("agentdesk:auto_renew", args=[line.pk]), {"enabled": "on", "use_wallet": "on"}),
    ]  # fmt: skip
    for method, url, data in attempts:
        answer = getattr(client, method)(url, data)
        assert answer.status_code == 403, url
        assert "Verify the customer first" in answer.content.decode()
    assert not Order.objects.filter(customer=customer).exists()
    assert wallet_balance(customer, "USD") == Decimal(0)
    assert not AutoRenew.objects.filter(line=line, enabled=True).exists()
