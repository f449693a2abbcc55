"""Every fleet URL × every kind of user: nobody is sent to log in; a person's login, back office
staff and shop agents do not find the fleet pages at all; a viewer sees every page and may do
nothing; an administrator may act. The table names every URL so a new one cannot go untested."""

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from refill.fleets.models import BulkJob, LineGroup
from tests.factories import login, make_customer, make_staff

from .conftest import Fleet

pytestmark = pytest.mark.django_db

# name: (method, the object it needs, what a viewer gets, what an admin gets)
TABLE = {
    "dashboard": ("get", None, 200, 200),
    "lines": ("get", None, 200, 200),
    "lines_group": ("post", None, 403, 302),
    "groups": ("get", None, 200, 200),
    "group_edit": ("post", "group", 403, 302),
    "members": ("get", None, 200, 200),
    "member_edit": ("post", "member", 403, 302),
    "jobs": ("get", None, 200, 200),
    "job": ("get", "job", 200, 200),
    "job_pay": ("post", "job", 403, 302),  # not waiting for a payment: back to the job
    "job_return": ("get", "job", 302, 302),
    "job_recheck": ("post", "job", 403, 302),
    "job_cancel": ("post", "job", 403, 302),
    "job_result": ("get", "job", 200, 200),
    "job_invoice": ("get", "job", 404, 404),  # no invoice before a renewal is done
}


def test_the_table_names_every_fleet_url():
    _prefix, resolver = get_resolver().namespace_dict["fleets"]
    assert {name for name in resolver.reverse_dict if isinstance(name, str)} == set(TABLE)


@pytest.fixture
def objects(db):
    fleet = Fleet(2)
    group = LineGroup.objects.create(customer=fleet.customer, name="Depot")
    job = BulkJob.objects.create(customer=fleet.customer, created_by=fleet.admin, idempotency_key="m", action="renew")
    return fleet, {"group": group.pk, "job": job.pk, "member": fleet.viewer.fleet_member.pk}


def client_for(who: str, fleet: Fleet) -> Client:
    client = Client()
    if who == "person":
        login(client, make_customer("matrix-fleet@example.com")[1])
    elif who in ("support", "admin staff"):
        user = make_staff(who.split()[0], f"{who[:5]}-fleet@example.com")
        login(client, user)
    elif who == "viewer":
        login(client, fleet.viewer)
    elif who == "admin":
        login(client, fleet.admin)
    return client


@pytest.mark.parametrize("who", ["nobody", "person", "support", "admin staff", "viewer", "admin"])
def test_who_may_do_what(who, objects):
    fleet, ids = objects
    client = client_for(who, fleet)
    wrong = []
    for name, (method, needs, viewer, admin) in sorted(TABLE.items()):
        answer = getattr(client, method)(reverse(f"fleets:{name}", args=[ids[needs]] if needs else []))
        if who == "nobody":
            ok = answer.status_code == 302 and "/accounts/login/" in answer["Location"]
        elif who in ("person", "support", "admin staff"):
            ok = answer.status_code == 404
        else:
            ok = answer.status_code == (viewer if who == "viewer" else admin)
        if not ok:
            wrong.append((name, answer.status_code))
    assert wrong == []
