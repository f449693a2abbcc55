"""Auto-renew caps over the API follow the portal's rule (one function): no finer than the
currency's minor unit, and never below the price of the renewal they would cap (issue 23, item 5)."""

import pytest

from refill.renewals.models import AutoRenew
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.integration.api.clients import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-month", price="35.00", name_en="Monthly Unlimited")
    customer, user = make_customer("caps-api@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    client = Client()
    login(client, user)
    return client, line, f"/api/v1/lines/{line.msisdn}/auto-renew"


def test_a_cap_finer_than_a_cent_is_a_422_problem_and_changes_nothing(world):
    client, line, url = world
    answer = client.patch(url, {"enabled": True, "cap_per_month": "0.001"}, content_type="application/json")
    assert answer.status_code == 422 and answer["Content-Type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == "auto_renew_invalid" and "2 decimal places" in problem["detail"]
    assert problem["errors"][0]["location"] == ["body", "cap_per_month"]
    assert not AutoRenew.objects.filter(line=line).exists()
    assert client.get(url).json()["cap_per_month"] is None


def test_a_cap_below_the_price_is_refused_naming_it(world):
    client, line, url = world
    answer = client.patch(url, {"cap_per_renewal": "30"}, content_type="application/json")
    assert answer.status_code == 422 and "$35.00" in answer.json()["detail"]
    assert answer.json()["errors"][0]["location"] == ["body", "cap_per_renewal"]
    assert not AutoRenew.objects.filter(line=line).exists()
    kept = client.patch(url, {"cap_per_renewal": "35.5"}, content_type="application/json")
    assert kept.status_code == 200 and kept.json()["cap_per_renewal"] == "35.50"
