"""Getting a new number with an eSIM in the portal: number and profile held, paid, then the
eSIM's activation code shown and emailed; unpaid lines give both back."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from refill.esim import services
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder, Profile
from refill.lines.models import Line, PoolNumber
from refill.orders.checkout import order_create_renewal
from tests.factories import esim_batch_iccid, login, make_customer, make_market, make_plan, renew
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = ["+12025550181", "+12025550182"]


def iccid(n: int) -> str:
    return esim_batch_iccid(6, n)


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        yield simulator


@pytest.fixture
def shop(db):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    for msisdn in NUMBERS:
        PoolNumber.objects.create(msisdn=msisdn, market=market, status="available", available_since=timezone.now())
    rows = "\n".join(f"{iccid(n)},{23415000000600 + n},consumer" for n in range(1, 3))
    inventory_import(file_name="stock.csv", content=f"iccid,imsi,profile_type\n{rows}\n".encode())
    customer, user = make_customer()
    return market, plan, customer, user


def run_tasks():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


def test_choose_pay_install(sim, shop, client, mailoutbox):
    market, plan, customer, user = shop
    login(client, user)
    page = client.get("/lines/new/").content.decode()
    assert "30-Day Plan" in page and "$25.00" in page and 'value="+12025550182"' in page
    response = client.post("/lines/new/", {"market": "us", "plan": "us-30day", "msisdn": NUMBERS[1]})
    line = Line.objects.get(owner=customer)
    assert response.status_code == 302 and response["Location"] == f"/lines/{line.pk}/renew/?plan=us-30day"
    assert (line.status, line.msisdn, line.sim_type) == ("pending", NUMBERS[1], "esim")
    assert PoolNumber.objects.get(msisdn=NUMBERS[1]).status == "assigned"
    assert Profile.objects.get(line=line).iccid == line.iccid
    services.esim_profiles_follow_lines()
    assert Profile.objects.get(line=line).network_state == "inactive"  # not on the network before it is paid
    # nothing to install before it is paid
    esim_page = client.get(f"/lines/{line.pk}/esim/").content.decode()
    assert "first period of this line is paid" in esim_page and "activation-code" not in esim_page
    assert client.get(f"/lines/{line.pk}/esim/qr.png").status_code == 404
    assert not sim.calls()

    order, _ = renew(line, plan)
    assert line.status == "active"
    confirmation = client.get(f"/orders/{order.pk}/confirmation/").content.decode()
    assert 'data-testid="install-esim"' in confirmation
    run_tasks()
    esim = EsimOrder.objects.get(line=line)
    assert (esim.status, esim.reason) == ("released", "new_line")
    assert Profile.objects.get(line=line).network_state == "active"
    assert str(esim.activation_code) in client.get(f"/lines/{line.pk}/esim/").content.decode()
    assert [m for m in mailoutbox if str(esim.activation_code) in m.body]


def test_a_profile_released_in_advance_needs_no_smdp_call_after_payment(sim, shop, client):
    market, plan, customer, user = shop
    assert services.esim_pool_fill(low_water=1) == 1
    calls = len(sim.calls())
    line = services.esim_line_open(customer=customer, market=market, plan=plan)
    ready = EsimOrder.objects.get(line=line)
    assert ready.status == "released" and line.iccid == ready.profile.iccid and line.msisdn == NUMBERS[0]
    renew(line, plan)
    run_tasks()
    assert len(sim.calls()) == calls and EsimOrder.objects.filter(line=line).count() == 1


def test_refusals_hold_nothing(sim, shop, client):
    market, plan, customer, user = shop
    login(client, user)
    response = client.post("/lines/new/", {"market": "us", "plan": "us-30day", "msisdn": "+12025559999"})
    assert response.status_code == 400 and "no longer available" in response.content.decode()
    Profile.objects.update(smdp_state="unavailable")
    with pytest.raises(services.NoProfileInStock):
        services.esim_line_open(customer=customer, market=market, plan=plan)
    assert not Line.objects.exists()
    assert set(PoolNumber.objects.values_list("status", flat=True)) == {"available"}


def test_unpaid_lines_give_their_number_and_profile_back(sim, shop):
    market, plan, customer, user = shop
    services.esim_pool_fill(low_water=1)
    line = services.esim_line_open(customer=customer, market=market, plan=plan, msisdn=NUMBERS[0])
    unpaid = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="unpaid-1")
    assert services.esim_unpaid_lines_release() == 0  # kept for a day
    later = timezone.now() + timedelta(hours=25)
    assert services.esim_unpaid_lines_release(now=later) == 1
    assert services.esim_unpaid_lines_release(now=later) == 0
    line.refresh_from_db()
    unpaid.refresh_from_db()
    assert (line.status, unpaid.status) == ("available", "cancelled")
    assert line.status_changes.get().cause == "not_paid"
    assert PoolNumber.objects.get(msisdn=NUMBERS[0]).status == "available"
    ready = EsimOrder.objects.get(profile__iccid=line.iccid)
    assert (ready.line, ready.reason, ready.profile.line) == (None, "pool", None)
    # the same number and eSIM serve the next customer
    other, _ = make_customer()
    again = services.esim_line_open(customer=other, market=market, plan=plan, msisdn=NUMBERS[0])
    assert (again.msisdn, again.iccid) == (line.msisdn, line.iccid)


def test_paid_lines_are_never_released(sim, shop):
    market, plan, customer, user = shop
    line = services.esim_line_open(customer=customer, market=market, plan=plan)
    renew(line, plan)
    assert services.esim_unpaid_lines_release(now=timezone.now() + timedelta(days=3)) == 0
