"""No activation code leaves Refill for a new line that was never paid for (issue 24 item 7): not
by the customer's "new code" button, the API, the back office's re-issue, the email, the page or
the QR; a clear translated refusal instead. Once the line is paid its code comes as before."""

import json

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.html import escape

from refill.esim import services
from refill.esim.emails import esim_ready_send
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder, Profile
from refill.lines.models import PoolNumber
from refill.notifications.models import Notification
from tests.factories import esim_batch_iccid, login, make_customer, make_market, make_plan, make_staff, renew
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+12025550191"


def iccid(n: int) -> str:
    return esim_batch_iccid(10, n)


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        yield simulator


@pytest.fixture
def pending(db):
    """A customer's new eSIM line, opened and not paid for: number and profile held."""
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    PoolNumber.objects.create(msisdn=NUMBER, market=market, status="available", available_since=timezone.now())
    rows = "\n".join(f"{iccid(n)},{23415000001000 + n},consumer" for n in range(1, 4))
    inventory_import(file_name="stock.csv", content=f"iccid,imsi,profile_type\n{rows}\n".encode())
    customer, user = make_customer(language="en")
    line = services.esim_line_open(customer=customer, market=market, plan=plan, msisdn=NUMBER)
    assert line.status == "pending" and Profile.objects.filter(line=line).exists()
    return line, plan, user


def run_tasks():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


def codes_sent(mailoutbox) -> list:
    return [mail for mail in mailoutbox if "LPA:1$" in mail.body]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_new_code_button_refuses_an_unpaid_line_and_orders_and_sends_nothing(
    sim, pending, client, mailoutbox, language
):
    line, _plan, user = pending
    type(user.customer).objects.filter(pk=user.customer.pk).update(preferred_language=language)
    login(client, user)
    client.cookies["django_language"] = language
    response = client.post(f"/lines/{line.pk}/esim/reinstall/", follow=True, headers={"accept-language": language})
    run_tasks()
    assert not EsimOrder.objects.filter(line=line).exists() and not sim.calls()
    assert not codes_sent(mailoutbox) and not Notification.objects.filter(rule="esim_ready").exists()
    assert response.status_code == 200 and f'lang="{language}"' in response.content.decode().lower()
    with translation.override(language):
        refusal = escape(str(services.EsimNotPaid.message))
    assert refusal in response.content.decode()
    assert language == "en" or "This number is not paid for yet" not in response.content.decode()
    page = client.get(f"/lines/{line.pk}/esim/").content.decode()
    assert "LPA:1$" not in page and client.get(f"/lines/{line.pk}/esim/qr.png").status_code == 404


def test_the_api_refuses_the_reissue_with_a_problem_and_shows_no_code(sim, pending, client, mailoutbox):
    line, _plan, user = pending
    login(client, user)
    response = client.post(
        f"/api/v1/lines/{line.msisdn}/esim/reissue",
        content_type="application/json",
        headers={"Idempotency-Key": "h9-1"},
    )
    problem = json.loads(response.content)
    assert response.status_code == 409 and problem["code"] == "esim_not_paid" and problem["detail"]
    assert response["Content-Type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/lines/{line.msisdn}/esim").json()["activation_code"] is None
    assert client.get(f"/api/v1/lines/{line.msisdn}/esim/qr.png").status_code in (403, 404)
    run_tasks()
    assert not EsimOrder.objects.filter(line=line).exists() and not codes_sent(mailoutbox)


def test_the_back_office_reissue_refuses_an_unpaid_line(sim, pending, client, mailoutbox):
    line, _plan, user = pending
    staff = make_staff("support", "support-h9@example.com")
    login(client, staff)
    response = client.post(
        f"/backoffice/customers/{line.owner_id}/lines/{line.pk}/esim/", {"reason": "customer asked"}, follow=True
    )
    run_tasks()
    assert "This number is not paid for yet" in response.content.decode()
    assert not EsimOrder.objects.filter(line=line).exists() and not codes_sent(mailoutbox)


def test_a_code_released_in_advance_is_emailed_only_once_the_line_is_paid(sim, pending, mailoutbox):
    line, plan, _user = pending
    # An order for the line's profile already released at the SM-DP+ (as one taken from the ready
    # pool is): the email service itself refuses to send its code while the line is unpaid.
    order = services._send(
        services._new_order(Profile.objects.get(line=line), line, EsimOrder.Reason.NEW_LINE, timezone.now()),
        services._client(),
    )
    assert order.status == "released" and order.matching_id
    assert esim_ready_send(order_id=order.pk) is None
    assert not codes_sent(mailoutbox) and not Notification.objects.filter(rule="esim_ready").exists()

    renew(line, plan)  # the first payment: the line is active, and its eSIM delivered
    assert line.status == "active"
    run_tasks()
    [mail] = codes_sent(mailoutbox)
    assert str(order.activation_code) in mail.body
