"""POST /api/v1/refills: gift refills of any number by a guest without an account, paid by card.
The order is the owner's, who is told; the payer sees only what they paid for; a guest's declines
never count against the owner."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.ledger.services import wallet_balance
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.renewals.gifts import gift_payer_confirmation_send
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}
DECLINED = {**CARD, "number": "4000000000000002"}


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    owner, user = make_customer("owner@example.com", language="zh-hans")
    line = make_line(owner, market, plan, msisdn="+12025550143")
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    return owner, user, line


def gift(body, key="g-1", ip="198.51.100.7", **headers):
    client = Client(REMOTE_ADDR=ip)
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/refills", body, content_type="application/json", **extra, **headers)


def plan_gift(line, **extra):
    return {"msisdn": line.msisdn, "plan": "us-30day", "card": CARD, **extra}


def test_a_guest_gives_a_plan(world, mailoutbox, django_capture_on_commit_callbacks):
    owner, user, line = world
    end_before = line.period_end
    with django_capture_on_commit_callbacks(execute=True):
        response = gift(plan_gift(line, periods=2, email="payer@example.net"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("status", "msisdn", "gift", "plan", "periods", "total", "currency")} == {
        "status": "paid",
        "msisdn": line.msisdn,
        "gift": "plan",
        "plan": "us-30day",
        "periods": 2,
        "total": "50.00",
        "currency": "USD",
    }
    # The payer learns nothing about the line beyond what they paid for.
    assert set(body) == {"id", "status", "msisdn", "gift", "plan", "periods", "total", "currency", "payment"}
    assert "owner" not in response.content.decode() and "period_end" not in body
    order = Order.objects.get(pk=body["id"])
    assert (order.customer, order.payer, order.payer_ip, order.payer_email) == (
        owner,
        "guest",
        "198.51.100.7",
        "payer@example.net",
    )
    line.refresh_from_db()
    assert Period.objects.filter(line=line, order_item__order=order).count() == 2
    assert line.period_end > end_before
    # The owner is told of the gift in their language, instead of the usual confirmation.
    told = Notification.objects.get(rule="gift_received", channel="email", subject_key=f"order:{order.pk}")
    assert told.customer == owner and told.language == "zh-hans"
    assert not Notification.objects.filter(rule="order_confirmation", subject_key=f"order:{order.pk}").exists()
    owner_mail = [m for m in mailoutbox if m.to == ["owner@example.com"]]
    assert len(owner_mail) == 1 and "payer@example.net" not in owner_mail[0].body
    # The guest is thanked in the language they asked in, once.
    assert gift_payer_confirmation_send(order_id=order.pk) is True
    assert gift_payer_confirmation_send(order_id=order.pk) is False
    payer_mail = [m for m in mailoutbox if m.to == ["payer@example.net"]]
    assert len(payer_mail) == 1 and "is paid" in payer_mail[0].subject
    assert "owner" not in payer_mail[0].body.lower().replace("the number's owner", "")
    assert AuditEvent.objects.filter(action="order.create", object_id=str(order.pk), actor_label__startswith="guest")


def test_a_guest_gives_money_to_the_owners_wallet(world):
    owner, user, line = world
    response = gift({"msisdn": "(202) 555-0143", "amount": "15.00", "card": CARD})
    assert response.status_code == 201, response.json()
    assert response.json()["gift"] == "amount" and response.json()["plan"] is None
    assert wallet_balance(owner, "USD") == Decimal("15.00")
    assert not Period.objects.filter(order_item__order_id=response.json()["id"]).exists()


def test_the_same_key_replays_and_never_charges_twice(world):
    owner, user, line = world
    first = gift(plan_gift(line))
    again = gift(plan_gift(line))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Payment.objects.count() == 1
    reused = gift(plan_gift(line, periods=2))
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # Another address with the same key is another guest: another refill.
    assert gift(plan_gift(line), ip="198.51.100.8").status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"msisdn": "+12025550100", "plan": "us-30day"}, 404, "number_not_found"),
        ({"msisdn": "not a number", "plan": "us-30day"}, 404, "number_not_found"),
        ({"plan": "us-30day", "amount": "10.00"}, 422, "gift_choice"),
        ({}, 422, "gift_choice"),
        ({"plan": "nope"}, 422, "plan_not_available"),
        ({"plan": "us-30day", "periods": 4}, 422, "too_many_periods"),
        ({"amount": "1.00"}, 422, "topup_out_of_range"),
        ({"amount": "10.001"}, 422, "topup_out_of_range"),
        ({"plan": "us-30day", "email": "nobody"}, 422, "email_invalid"),
        ({"plan": "us-30day", "expected_total": "20.00"}, 409, "price_changed"),
        ({"plan": "us-30day", "card": {**CARD, "number": "1234"}}, 402, "payment_declined"),
    ],
)
def test_bad_gifts_are_refused_and_change_nothing(world, body, status, code):
    owner, user, line = world
    response = gift({"msisdn": line.msisdn, "card": CARD, **body}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code and response["Content-Type"] == "application/problem+json"
    assert not Order.objects.filter(payer="guest").exclude(status="awaiting_payment").exists()
    assert not Payment.objects.exists() and not Period.objects.filter(order_item__isnull=False).exists()


def test_a_gift_needs_a_key(world):
    owner, user, line = world
    response = gift(plan_gift(line), key=None)
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_required"
    assert not Order.objects.exists()


def test_a_lapsed_or_released_number(world):
    owner, user, line = world
    line.status = "available"
    line.save(update_fields=["status"])
    assert gift(plan_gift(line)).json()["code"] == "number_not_found"


def test_guest_declines_never_block_the_owner(world, settings):
    owner, user, line = world
    for n in range(3):
        declined = gift(plan_gift(line, card=DECLINED), key=f"d-{n}")
        assert declined.status_code == 402 and declined.json()["decline_code"] == "do_not_honour"
    blocked = gift(plan_gift(line), key="d-9")
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_declines"
    assert blocked["Retry-After"]
    # Other guests may still give, until the number itself has seen too many declines.
    for n in range(2):
        assert gift(plan_gift(line, card=DECLINED), key=f"e-{n}", ip=f"198.51.100.{20 + n}").status_code == 402
    assert gift(plan_gift(line), key="e-9", ip="198.51.100.30").json()["code"] == "too_many_declines"
    # The owner's own renewals are not held back by strangers' cards.
    client = Client()
    login(client, user)
    own = client.post(
        "/api/v1/orders",
        {"msisdn": line.msisdn, "plan": "us-30day", "card": CARD},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="own-1",
    )
    assert own.status_code == 201, own.json()


def test_one_address_may_give_only_so_often(world, settings):
    owner, user, line = world
    settings.REFILL_GUEST_REFILLS = {**settings.REFILL_GUEST_REFILLS, "orders_per_ip_day": 2}
    assert gift(plan_gift(line), key="a").status_code == 201
    assert gift(plan_gift(line), key="b").status_code == 201
    refused = gift(plan_gift(line), key="c")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_gifts"
    assert gift(plan_gift(line), key="a").status_code == 201  # a replay is still answered
    assert Order.objects.count() == 2


def test_the_bank_step_returns_the_guest_to_a_page_of_their_own(world, client):
    owner, user, line = world
    response = gift(plan_gift(line, card={**CARD, "number": "4000000000003162"}))
    assert response.status_code == 201
    payment = response.json()["payment"]
    assert response.json()["status"] == "awaiting_payment" and payment["status"] == "requires_action"
    # The guest's browser shows the bank's page and sends its form back, with the form's CSRF token.
    form = client.get(payment["next_url"]).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    bank = client.post(payment["next_url"], {"decision": "approve", "csrfmiddlewaretoken": token})
    assert bank.status_code == 302 and "/refills/" in bank.url
    page = client.get(bank.url)
    assert page.status_code == 200 and 'data-testid="gift-number"' in page.content.decode()
    assert "Thank you" in page.content.decode()
    assert Order.objects.get(pk=response.json()["id"]).status == "paid"
    assert client.get("/refills/forged-token/").status_code == 404


def test_a_guests_gift_of_another_plan_leaves_the_owners_plan_and_auto_renew_plan(world):
    """A stranger may buy the owner a Day Pass; the owner's plan, and so what auto-renew and the
    renew page choose next, stays the owner's own choice."""
    owner, user, line = world
    make_plan(line.market, "us-day", price="1.50", name_en="Day Pass", name_zh_hans="日套餐", validity_count=1)
    response = gift({"msisdn": line.msisdn, "plan": "us-day", "card": CARD}, key="g-day")
    assert response.status_code == 201 and response.json()["plan"] == "us-day"
    line.refresh_from_db()
    assert Period.objects.filter(line=line, plan__code="us-day").count() == 1
    assert (line.plan.code, line.renewal_plan.code) == ("us-30day", "us-30day")


def test_declines_in_a_payment_app_do_not_count_as_declined_cards(world):
    """The guest limit stops card testing (many cards tried from one address); a guest who declined
    in Alipay or WeChat Pay tried no card, and may still pay with a good one."""
    owner, user, line = world
    for n in range(3):
        assert gift(plan_gift(line, card=DECLINED), key=f"w-{n}").status_code == 402
    # As the payment app's page leaves them: a declined attempt of that wallet, no card.
    Payment.objects.filter(order__payer="guest", status="failed").update(card_brand="alipay", card_last4="")
    assert gift(plan_gift(line), key="w-9").status_code == 201
