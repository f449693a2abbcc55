"""The customer's eSIM page, its QR, a new code for a new phone, and the email that carries it."""

import io

import pytest
import zxingcpp
from django.core.management import call_command
from PIL import Image

from refill.esim import services
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder, Profile
from tests.factories import esim_batch_iccid, login, make_customer, make_line, make_market, make_plan, renew
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)

EID = "89049032007008882600000000000020"


def iccid(n: int) -> str:
    return esim_batch_iccid(3, n)


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        rows = "\n".join(f"{iccid(n)},{23415000000100 + n},consumer" for n in range(1, 4))
        inventory_import(file_name="stock.csv", content=f"iccid,imsi,profile_type\n{rows}\n".encode())
        yield simulator


@pytest.fixture
def world(db):
    market = make_market()
    customer, user = make_customer()
    line = make_line(customer, market, make_plan(market), sim_type="esim")
    type(line).objects.filter(pk=line.pk).update(status="active")  # a line in use (a pending one shows no code)
    line.refresh_from_db()
    return customer, user, line


def run_tasks():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


def test_the_page_shows_the_qr_the_code_and_the_status(sim, world, client):
    customer, user, line = world
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    login(client, user)
    page = client.get(f"/lines/{line.pk}/esim/")
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    code = str(order.activation_code)
    assert f'value="{code}"' in html and 'data-testid="esim-qr"' in html and "<svg" in html
    assert "esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA%3A1%24" in html
    assert 'data-status="released"' in html and 'hx-trigger="every 5s"' in html
    png = client.get(f"/lines/{line.pk}/esim/qr.png")
    assert png["Content-Type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [found.text for found in decoded] == [code]
    # the phone installs it: the status block says so and asks the page to reload
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID})
    status = client.get(f"/lines/{line.pk}/esim/status/?shown=released")
    assert 'data-status="installed"' in status.content.decode() and status["HX-Refresh"] == "true"
    html = client.get(f"/lines/{line.pk}/esim/").content.decode()
    assert "hx-trigger" not in html and code not in html


def test_only_the_owner_sees_it(sim, world, client):
    _, _, line = world
    services.esim_for_new_line(line=line, profile_type="consumer")
    _, stranger = make_customer(email="stranger@example.com")
    login(client, stranger)
    for path in ("", "status/", "qr.png"):
        assert client.get(f"/lines/{line.pk}/esim/{path}").status_code == 404
    assert client.post(f"/lines/{line.pk}/esim/reinstall/").status_code == 404
    assert EsimOrder.objects.count() == 1


def test_physical_lines_have_no_esim_page(world, client):
    customer, user, line = world
    physical = make_line(customer, line.market, line.plan, sim_type="physical")
    login(client, user)
    assert client.get(f"/lines/{physical.pk}/esim/").status_code == 404


def test_a_new_phone_gets_a_new_code_by_email(sim, world, client, mailoutbox):
    customer, user, line = world
    first = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": first.matching_id, "eid": EID})
    run_tasks()
    mailoutbox.clear()
    login(client, user)
    response = client.post(f"/lines/{line.pk}/esim/reinstall/", follow=True)
    second = EsimOrder.objects.exclude(pk=first.pk).get()
    assert second.reason == "reinstall" and str(second.activation_code) in response.content.decode()
    run_tasks()
    [mail] = mailoutbox
    assert line.msisdn_display in mail.subject and str(second.activation_code) in mail.body
    html, _ = mail.alternatives[0]
    assert 'src="cid:esim-qr@refill"' in html
    image = next(part for part in mail.message().walk() if part.get_content_type() == "image/png")
    assert image["Content-ID"] == "<esim-qr@refill>"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_payload(decode=True))))
    assert [found.text for found in decoded] == [str(second.activation_code)]
    run_tasks()
    assert len(mailoutbox) == 1  # once per code


def test_the_email_is_in_the_customers_language(sim, world, mailoutbox):
    customer, _, line = world
    customer.preferred_language = "zh-hans"
    customer.save()
    services.esim_for_new_line(line=line, profile_type="consumer")
    run_tasks()
    [mail] = mailoutbox
    assert "eSIM" in mail.subject and not mail.subject.isascii() and "激活码" in mail.body


def test_refusals_are_shown_not_raised(sim, world, client, settings):
    customer, user, line = world
    services.esim_for_new_line(line=line, profile_type="consumer")
    Profile.objects.filter(line=line).update(downloads=3)
    login(client, user)
    response = client.post(f"/lines/{line.pk}/esim/reinstall/", follow=True)
    assert "contact support" in response.content.decode()
    assert EsimOrder.objects.count() == 1


def test_renewal_leaves_the_profile_alone_and_offers_a_reinstall_only_when_it_is_gone(sim, world, client):
    customer, user, line = world
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID})
    calls = len(sim.calls())
    login(client, user)
    paid, _ = renew(line, line.plan)
    assert len(sim.calls()) == calls  # a renewal asks nothing of the SM-DP+
    assert Profile.objects.get(line=line).smdp_state == "installed"
    page = client.get(f"/orders/{paid.pk}/confirmation/").content.decode()
    assert "esim-reinstall-offer" not in page
    sim.post("/sim/device/delete", {"iccid": line.esim_profile.iccid})  # removed while it was lapsed
    paid, _ = renew(line, line.plan)
    page = client.get(f"/orders/{paid.pk}/confirmation/").content.decode()
    assert "esim-reinstall-offer" in page and f"/lines/{line.pk}/esim/" in page
