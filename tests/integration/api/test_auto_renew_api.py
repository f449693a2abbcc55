import pytest

from refill.renewals.models import AutoRenew
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    customer, user = make_customer("auto-api@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    client = Client()
    login(client, user)
    return client, line


def test_read_and_change_auto_renew(world):
    client, line = world
    url = f"/api/v1/lines/{line.msisdn}/auto-renew"
    assert client.get(url).json()["enabled"] is False
    changed = client.patch(url, {"enabled": True, "cap_per_month": "50"}, content_type="application/json").json()
    assert changed["enabled"] is True and changed["cap_per_month"] == "50.00" and changed["currency"] == "USD"
    removed = client.patch(url, {"cap_per_month": None}, content_type="application/json").json()
    assert removed["cap_per_month"] is None and removed["enabled"] is True


def test_bad_values_and_other_peoples_lines(world):
    client, line = world
    url = f"/api/v1/lines/{line.msisdn}/auto-renew"
    assert client.patch(url, {"cap_per_renewal": "-3"}, content_type="application/json").status_code == 422
    other, _ = make_customer("x@example.com")
    theirs = make_line(other, line.market, line.plan, msisdn="+12025550199")
    assert client.get(f"/api/v1/lines/{theirs.msisdn}/auto-renew").status_code == 404
    patch = client.patch(
        f"/api/v1/lines/{theirs.msisdn}/auto-renew", {"enabled": True}, content_type="application/json"
    )
    assert patch.status_code == 404
    assert not AutoRenew.objects.filter(enabled=True).exists()
