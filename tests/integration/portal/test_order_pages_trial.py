"""A new user's trial of the order pages (issue 26): a payment app's decline reads as a failed
payment, not "Awaiting payment", on the list and the order; a paid order offers to report a problem
(the support form with the order filled in, only for one's own order) and the refund article; the
reference a customer is given is the receipt number, on screen and by email."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import Payment, SandboxCharge
from refill.renewals.gifts import gift_payer_confirmation_send, gift_return_token
from refill.support.models import Ticket
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db


def _refillable(line):
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    return line


def _state(html: str) -> list[str]:
    return re.findall(r'data-testid="order-state">([^<]*)<', html)


def _declined_by_alipay(client, customer, line, plan) -> Order:
    """An order paid with Alipay whose provider page the customer declined, back on Refill."""
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="alipay")
    payment = order_pay(order=order, pay_with=PayWith(provider_wallet="alipay"), return_url="/")
    assert payment.status == Payment.Status.REQUIRES_ACTION
    charge = SandboxCharge.objects.get(idempotency_key=payment.idempotency_key)
    client.post(reverse("sandbox_confirm", args=[charge.reference]), {"decision": "decline"})
    client.get(reverse("portal:payment_return", args=[order.pk]))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    return order


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_declined_payment_app_order_says_payment_failed_on_the_list_and_the_order(client, language):
    market = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plan = make_plan(market, "cn-month", price="88.00")
    customer, user = make_customer(language=language, tz="Asia/Shanghai")
    line = make_line(customer, market, plan, msisdn="+8613912345601")
    login(client, user)
    client.cookies["refill_language"] = language
    order = _declined_by_alipay(client, customer, line, plan)

    with translation.override(language):
        failed, awaiting = translation.gettext("Payment failed"), translation.gettext("Awaiting payment")
    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    listing = client.get(reverse("portal:orders")).content.decode()
    assert _state(detail) == [failed] and _state(listing) == [failed]
    assert awaiting not in visible_text(detail) and awaiting not in visible_text(listing)
    assert 'data-state="failed"' in listing
    # the decline is still explained under the badge, and it can still be paid
    assert 'class="error-box"' in detail and 'data-testid="try-again"' in detail


def test_an_order_with_a_payment_still_waiting_says_awaiting_payment(client):
    market = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plan = make_plan(market, "cn-month", price="88.00")
    customer, user = make_customer(tz="Asia/Shanghai")
    line = make_line(customer, market, plan, msisdn="+8613912345602")
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="wait")
    order_pay(order=order, pay_with=PayWith(provider_wallet="alipay"), return_url="/")
    login(client, user)
    assert _state(client.get(reverse("portal:orders")).content.decode()) == ["Awaiting payment"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_paid_order_offers_to_report_a_problem_with_the_order_filled_in(client, language):
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00")
    customer, user = make_customer(language=language)
    line = make_line(customer, us, plan, msisdn="+12025550191")
    order, _ = renew(line, plan)
    receipt = order.receipt.display_number
    login(client, user)
    client.cookies["refill_language"] = language

    detail = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    problem = re.search(r'href="([^"]+)" data-testid="order-problem"', detail)
    refund_help = re.search(r'href="([^"]+)" data-testid="order-refund-help"', detail)
    assert problem and refund_help
    assert client.get(refund_help.group(1).replace("&amp;", "&"), follow=True).status_code == 200

    # the support form opens with the line chosen and the order's receipt number in the subject
    contact = client.get(problem.group(1).replace("&amp;", "&"))
    assert contact.status_code == 200
    form = contact.context["form"]
    assert form.initial["line"] == line.pk and receipt in form.initial["subject"]
    assert form.initial["order"] == order.pk
    page = contact.content.decode()
    assert f'value="{line.pk}" selected' in page and receipt in page

    # sent as it is, the ticket names the order (staff find it by the receipt number)
    data = {"category": form.initial["category"], "line": line.pk, "subject": form.initial["subject"],
            "body": "I was charged but the data did not arrive.", "order": order.pk}  # fmt: skip
    assert client.post(reverse("support:contact"), data).status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.line == line and receipt in ticket.subject and receipt in ticket.messages.get().body


def test_only_ones_own_order_can_be_reported(client):
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00")
    owner, _ = make_customer()
    order, _ = renew(make_line(owner, us, plan, msisdn="+12025550192"), plan)
    other, other_user = make_customer()
    login(client, other_user)
    assert client.get(reverse("portal:order_detail", args=[order.pk])).status_code == 404
    assert client.get(reverse("support:contact") + f"?order={order.pk}").status_code == 404
    assert client.get(reverse("support:contact") + "?order=x").status_code == 200  # not an id: no order
    data = {"category": "other", "subject": "Hello", "body": "Someone else's order", "order": order.pk}
    response = client.post(reverse("support:contact"), data)
    assert response.status_code == 400 and not Ticket.objects.exists()
    client.logout()
    assert client.get(reverse("support:contact") + f"?order={order.pk}").status_code == 404


def test_an_unpaid_order_offers_no_problem_report(client):
    # nothing was charged: "Try again" is the way on, as before (the help article on declines is there)
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00")
    customer, user = make_customer()
    line = make_line(customer, us, plan, msisdn="+12025550193")
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="u")
    login(client, user)
    page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="order-problem"' not in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_guest_is_given_the_receipt_number_on_screen_and_by_email(client, language, mailoutbox):
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00")
    owner, _ = make_customer()
    line = _refillable(make_line(owner, us, plan, msisdn="+12025550194"))
    client.cookies["refill_language"] = language
    page = client.post(reverse("portal:refill_start"), {"msisdn": line.msisdn}).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("portal:refill_pay"),
        {"msisdn": line.msisdn, "gift": "us-30day", "periods": "1", "pay_with": "card", "email": "g@example.com",
         "idempotency_key": key, "card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"},
    )  # fmt: skip
    assert response.status_code == 302
    order = Order.objects.get(payer="guest", status="paid")
    shown = client.get(response.url).content.decode()
    order.refresh_from_db()
    number = order.receipt.display_number
    assert order.receipt.number  # numbered before it is shown
    assert re.search(r'data-testid="gift-reference">\s*' + re.escape(number), shown)
    assert gift_payer_confirmation_send(order_id=order.pk) is True
    body = next(m.body for m in mailoutbox if m.to == ["g@example.com"])
    assert number in body


def test_a_guest_whose_payment_failed_is_given_the_orders_reference(client):
    us = make_market()
    plan = make_plan(us, "us-30day", price="30.00")
    owner, _ = make_customer()
    line = _refillable(make_line(owner, us, plan, msisdn="+12025550195"))
    page = client.post(reverse("portal:refill_start"), {"msisdn": line.msisdn}).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("portal:refill_pay"),
        {"msisdn": line.msisdn, "gift": "us-30day", "periods": "1", "pay_with": "wechat_pay", "idempotency_key": key},
    )
    assert response.status_code == 302
    order = Order.objects.get(payer="guest")
    shown = client.get(reverse("portal:gift_return", args=[gift_return_token(order)])).content.decode()
    # no receipt yet: the order's reference, as the order page shows it
    from refill.orders.receipts import order_reference

    assert re.search(r'data-testid="gift-reference">\s*' + re.escape(order_reference(order)), shown)
