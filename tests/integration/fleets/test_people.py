"""A business's people: administrators add, change and remove them; a viewer looks at everything,
in the fleet pages, the portal and the app's API, and changes nothing."""

import pytest
from django.core import mail
from django.test import Client

from refill.audit.models import AuditEvent
from refill.customers.models import User
from refill.fleets import errors, members
from refill.fleets.models import FleetMember
from tests.factories import login

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_person_who_is_invited_to_set_a_password(fleet, client, django_capture_on_commit_callbacks):
    login(client, fleet.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/fleet/members/", {"email": "New.Driver@Acme.example", "role": "viewer"})
    assert response.status_code == 302
    member = FleetMember.objects.get(user__email="new.driver@acme.example")
    assert member.role == "viewer" and member.user.customer == fleet.customer and not member.user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/password/reset/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="fleet.member_add").exists()
    # Bad input: nothing written, the reason shown.
    for data in ({"email": "not-an-address", "role": "viewer"}, {"email": fleet.viewer.email, "role": "admin"}):
        response = client.post("/fleet/members/", data)
        assert response.status_code == 400 and b'data-testid="error"' in response.content
    assert FleetMember.objects.count() == 3


def test_roles_change_and_a_business_keeps_an_administrator(fleet):
    admin = fleet.admin.fleet_member
    viewer = fleet.viewer.fleet_member
    with pytest.raises(errors.FleetRefused):
        members.member_set_role(member=admin, user=fleet.admin, role="viewer")  # the only admin
    members.member_set_role(member=viewer, user=fleet.admin, role="admin")
    members.member_set_role(member=admin, user=fleet.viewer, role="viewer")  # now another admin does it
    admin.refresh_from_db()
    assert admin.role == "viewer"
    with pytest.raises(errors.NotFleetAdmin):
        members.member_set_role(member=viewer, user=fleet.admin, role="viewer")


def test_removing_closes_the_login(fleet, client):
    login(client, fleet.admin)
    client.post(f"/fleet/members/{fleet.viewer.fleet_member.pk}/", {"remove": "1"})
    fleet.viewer.refresh_from_db()
    assert not fleet.viewer.is_active and not FleetMember.objects.filter(user=fleet.viewer).exists()
    with pytest.raises(errors.FleetRefused):
        members.member_remove(member=fleet.admin.fleet_member, user=fleet.admin)  # not oneself


def test_a_viewer_cannot_change_anything_anywhere(fleet, client):
    login(client, fleet.viewer)
    line = fleet.lines[0]
    assert client.get(f"/lines/{line.pk}/auto-renew/").status_code == 200  # looking is fine
    for url in (f"/lines/{line.pk}/auto-renew/", "/wallet/", f"/lines/{line.pk}/renew/", "/fleet/groups/"):
        assert client.post(url, {}).status_code == 403, url
    assert client.post("/language/", {"language": "zh-hans"}).status_code == 302  # their own login's
    # The app's API too.
    User.objects.filter(pk=fleet.viewer.pk).update(password=fleet.admin.password)  # a known password
    app = Client()
    token = app.post(
        "/_allauth/app/v1/auth/login",
        {"email": fleet.viewer.email, "password": "secret-pass-1234"},
        content_type="application/json",
    ).json()["meta"]["session_token"]
    headers = {"HTTP_X_SESSION_TOKEN": token}
    assert app.get("/api/v1/lines", **headers).status_code == 200
    refused = app.post(
        "/api/v1/vouchers/redeem", {"pin": "1234123412341234"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="v-1", **headers,
    )  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] == "fleet_viewer_read_only"


def test_a_viewer_is_shown_no_buttons_that_would_be_refused(fleet, client):
    line = fleet.lines[0]
    login(client, fleet.viewer)
    home = client.get("/lines/").content.decode()
    assert 'data-testid="line"' in home and 'data-testid="auto-renew-state"' in home
    for testid in ("renew", "line-new", "buy-addon", "auto-renew"):
        assert f'data-testid="{testid}"' not in home, testid
    for url in (f"/lines/{line.pk}/auto-renew/", f"/lines/{line.pk}/renew/", "/wallet/", "/preferences/"):
        page = client.get(url).content.decode()
        assert 'data-testid="read-only"' in page and 'method="post"' not in page.split("</header>", 1)[-1], url
    login(client, fleet.admin)
    home = client.get("/lines/").content.decode()
    assert 'data-testid="renew"' in home and 'data-testid="read-only"' not in home


def test_a_business_login_lands_on_the_fleet(fleet):
    client = Client()
    answer = client.post("/accounts/login/", {"login": fleet.admin.email, "password": "secret-pass-1234"})
    assert answer.status_code == 302 and answer["Location"] == "/fleet/"
