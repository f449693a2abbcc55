"""A gift refill is the recipient's order, but who paid for it is the payer's data: the recipient's
download (Settings → Privacy → Download my data) says a guest, a partner or another person paid,
never the payer's address, IP address, card or API key, nor the login of a member of staff or a
shop agent who acted on their account (a partner's name is in the gift notice they were sent, which
is theirs) (docs/privacy.md, docs/api.md: "the payer is never named")."""

import json
import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from refill.apikeys.services import apikey_create
from refill.audit.services import audit_record
from refill.customers.models import User
from refill.orders.models import Order
from refill.orders.receipts import receipt_context
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db
CARD = {"number": "4000056655665556", "exp_month": 12, "exp_year": 2039, "cvc": "123"}  # a debit card: ends 5556


@pytest.fixture
def recipient(django_capture_on_commit_callbacks):
    market = make_market()
    make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer("recipient@example.com")
    line = make_line(customer, market, market.plans.get(), msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    body = {"msisdn": line.msisdn, "plan": "us-30day", "card": CARD}
    with django_capture_on_commit_callbacks(execute=True):
        guest = Client(REMOTE_ADDR="203.0.113.77").post(
            "/api/v1/refills", {**body, "email": "secret-payer@example.net"}, content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="gift-1",
        )  # fmt: skip
        key = apikey_create(name="Corner Reseller Ltd", scopes=["renew"], actor=None)[1]
        partner = Client().post(
            "/api/v1/orders", {**body, "pay_with": "card"}, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY="partner-1",
        )  # fmt: skip
    assert (guest.status_code, partner.status_code) == (201, 201), (guest.content, partner.content)
    # A member of staff and a shop agent acted on the account too.
    staff = User.objects.create_user("clerk.jane@refill.example", "x-pass-2026", role="staff", is_staff=True)
    agent = User.objects.create_user("agent.li@shop.example", "x-pass-2026", role="agent")
    audit_record(actor=staff, action="line.note", obj=line, reason="checked")
    audit_record(actor=agent, action="line.note", obj=line)
    audit_record(actor=user, action="line.label", obj=line)
    return user, key


def _strings(value):
    """Every text value in a JSON document, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_the_recipients_download_names_no_payer(recipient, client):
    user, key = recipient
    login(client, user)
    text = client.post(reverse("portal:privacy_export")).content.decode()
    data = json.loads(text)
    gifts = [order for order in data["orders"] if order["payer"] in ("guest", "partner")]
    assert sorted(order["payer"] for order in gifts) == ["guest", "partner"]  # that someone paid: said
    prefix = key.split("_")[1]  # what names the key in audit rows
    for secret in ("secret-payer@example.net", "203.0.113.77", prefix, "clerk.jane", "agent.li"):
        assert secret not in text, secret
    # The payers' card ends 5556: no value names it. Checked as a number on its own in each text
    # value, not as a substring of the file, where a timestamp's microseconds (…:05.555612) or a
    # large primary key may hold those digits by chance.
    assert [value for value in _strings(data) if re.search(r"(?<!\d)5556(?!\d)", value)] == []
    assert all("payer_email" not in order for order in data["orders"])
    assert {payment["card_last4"] for payment in data["payments"]} == {None}  # the payers' cards
    actors = {event["actor"] for event in data["audit_events"]}
    assert {"guest", "partner", "staff", "shop agent", "recipient@example.com"} <= actors, actors
    assert Order.objects.filter(payer_email="secret-payer@example.net").exists()  # kept, for the payer's receipt


def test_the_recipients_order_page_and_receipt_show_no_payers_card(recipient, client):
    user, _key = recipient
    login(client, user)
    gifts = Order.objects.filter(customer=user.customer, payer__in=["guest", "partner"])
    assert gifts.count() == 2
    for order in gifts:
        page = visible_text(client.get(reverse("portal:order_detail", args=[order.pk])).content.decode())
        assert "5556" not in page and "A gift: paid by someone else" in page
        receipt = visible_text(render_to_string("receipts/receipt.html", receipt_context(order)))
        assert "5556" not in receipt and "A gift: paid by someone else" in receipt
