"""Back-office audit log: who did what, when, from where, before and after; searchable, a page at a
time or as CSV, for staff allowed to read it; and rows the database refuses to change."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.audit.services import audit_record
from refill.backoffice.audit_views import PER_PAGE
from refill.ops.middleware import client_ip
from tests.factories import login, make_market, make_promotion, make_staff

pytestmark = pytest.mark.django_db

URL = "/backoffice/audit/"


@pytest.fixture
def auditor(client, django_user_model):
    user = make_staff(email="auditor@example.com", permissions=["audit.view_auditevent"])
    login(client, user)
    return user


@pytest.fixture
def market():
    return make_market()


def event(**fields) -> AuditEvent:
    """An audit row as a service would have written it, with ``fields`` changed (rows cannot be
    changed afterwards, so ``at`` is given here)."""
    values = dict(actor_label="system", action="thing.done", object_type="promotions.promotion", object_id="1")
    return AuditEvent.objects.create(**{**values, **fields})


def shown(response) -> list[int]:
    """The audit rows the list shows, by primary key, top to bottom."""
    body = response.content.decode()
    return [int(chunk.split('"', 1)[0]) for chunk in body.split('data-testid="event-')[1:]]


def test_url_name_and_index_link(auditor, client):
    assert reverse("backoffice:audit") == URL
    assert reverse("backoffice:audit_detail", args=[7]) == f"{URL}7/"
    assert f'href="{URL}"' in client.get("/backoffice/").content.decode()


def test_anonymous_is_sent_to_log_in():
    first = event()
    for url in (URL, f"{URL}{first.pk}/", f"{URL}?format=csv"):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_staff_without_the_permission_are_refused(client, django_user_model):
    first = event()
    clerk = make_staff(email="clerk@example.com", permissions=["promotions.view_promotion"])
    login(client, clerk)
    for url in (URL, f"{URL}{first.pk}/", f"{URL}?format=csv"):
        assert client.get(url).status_code == 403


def test_a_back_office_change_records_who_when_from_where_and_before_and_after(django_user_model, market):
    # given a marketing manager working from 203.0.113.7
    manager = make_staff(
        email="manager@example.com",
        permissions=["promotions.view_promotion", "promotions.change_promotion", "audit.view_auditevent"],
    )
    client = Client(REMOTE_ADDR="203.0.113.7")
    login(client, manager)
    promotion = make_promotion(market)
    # when they pause a promotion
    response = client.post(reverse("backoffice:promotion_pause", args=[promotion.pk]))
    assert response.status_code == 302
    # then the audit row says who, from where and in which request
    row = AuditEvent.objects.get(action="promotion.paused", object_id=str(promotion.pk))
    assert row.actor == manager and row.actor_label == "manager@example.com"
    assert row.ip == "203.0.113.7"
    assert row.request_id == response["X-Request-ID"]
    # and the log finds it by address, and its page shows before and after
    assert shown(client.get(URL, {"ip": "203.0.113.7"})) == [row.pk]
    assert shown(client.get(URL, {"ip": "203.0.113.8"})) == []
    detail = client.get(reverse("backoffice:audit_detail", args=[row.pk])).content.decode()
    assert "203.0.113.7" in detail and "manager@example.com" in detail and row.request_id in detail
    change = detail.split('data-testid="change-paused"', 1)[1].split("</tr>", 1)[0]
    assert "<td>false</td>" in change and "<td>true</td>" in change


def test_rows_written_outside_a_request_have_no_address(market):
    row = audit_record(actor=None, action="promotion.checked", obj=make_promotion(market))
    row.refresh_from_db()
    assert row.ip is None and row.request_id == "" and row.actor_label == "system"


def test_the_client_address_is_remote_addr_only():
    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR="2001:DB8::1")) == "2001:db8::1"
    assert client_ip(factory.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="10.0.0.1")) == "198.51.100.1"
    assert client_ip(factory.get("/", REMOTE_ADDR="fe80::1%eth0")) == "fe80::1"
    assert client_ip(factory.get("/", REMOTE_ADDR="")) is None


def test_newest_first_and_the_filters(auditor, client):
    # given rows by two people and a task, about two objects
    alice = event(actor_label="alice@example.com", action="promotion.paused", object_id="5", ip="198.51.100.4",
                  reason="Too popular", request_id="req-alice")  # fmt: skip
    bob = event(actor_label="bob@example.com", action="promotion.changed", object_id="6",
                data={"before": {"budget": "10"}, "after": {"budget": "20"}})  # fmt: skip
    task = event(actor_label="system", action="order.create", object_type="orders.order", object_id="5")
    paused_promotions = event(actor_label="carol@example.com", action="promotions_report.sent", object_id="5")
    # then
    assert shown(client.get(URL)) == [paused_promotions.pk, task.pk, bob.pk, alice.pk]
    # free text: actor, action, object type:id, reason, request id
    assert shown(client.get(URL, {"q": "ALICE"})) == [alice.pk]
    assert shown(client.get(URL, {"q": "changed"})) == [bob.pk]
    assert shown(client.get(URL, {"q": "orders.order:5"})) == [task.pk]
    assert shown(client.get(URL, {"q": "popular"})) == [alice.pk]
    assert shown(client.get(URL, {"q": "req-alice"})) == [alice.pk]
    # action: exact, by the part before the dot, or any prefix with *
    assert shown(client.get(URL, {"action": "promotion.paused"})) == [alice.pk]
    assert shown(client.get(URL, {"action": "promotion"})) == [bob.pk, alice.pk]
    assert shown(client.get(URL, {"action": "promotion*"})) == [paused_promotions.pk, bob.pk, alice.pk]
    # actor, object, address
    assert shown(client.get(URL, {"actor": "bob@"})) == [bob.pk]
    assert shown(client.get(URL, {"object_type": "promotions.promotion", "object_id": "5"})) == [
        paused_promotions.pk,
        alice.pk,
    ]
    assert shown(client.get(URL, {"object_type": "orders.order"})) == [task.pk]
    assert shown(client.get(URL, {"ip": "198.51.100.4"})) == [alice.pk]
    # filters combine
    assert shown(client.get(URL, {"q": "example.com", "object_id": "5"})) == [paused_promotions.pk, alice.pk]


def test_actor_filter_matches_the_staff_members_email(auditor, client, django_user_model):
    renamed = django_user_model.objects.create_user("ops-lead@example.com", "x-pass-12345", is_staff=True)
    row = event(actor=renamed, actor_label="Operations lead")
    event(actor_label="someone else")
    assert shown(client.get(URL, {"actor": "ops-lead"})) == [row.pk]


def test_dates_are_days_in_the_staff_members_time_zone(auditor, client, settings):
    # given a row written at 20:00 UTC on 1 March, which is 04:00 on 2 March in Shanghai
    settings.TIME_ZONE = "Asia/Shanghai"
    row = event(at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    # then it belongs to 2 March
    assert shown(client.get(URL, {"date_from": "2026-03-02", "date_to": "2026-03-02"})) == [row.pk]
    assert shown(client.get(URL, {"date_to": "2026-03-01"})) == []
    assert shown(client.get(URL, {"date_from": "2026-03-03"})) == []
    assert "Asia/Shanghai" in client.get(URL).content.decode()


def test_a_malformed_filter_shows_nothing(auditor, client):
    event()
    response = client.get(URL, {"ip": "not-an-address"})
    assert response.status_code == 400 and shown(response) == []


def test_pages_of_fifty_newest_first(auditor, client):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # two rows share a time: the keyset takes the primary key as well
    rows = [event(at=start + timedelta(minutes=n // 2), object_id=str(n)) for n in range(PER_PAGE * 2 + 20)]
    newest_first = [row.pk for row in reversed(rows)]

    first = client.get(URL)
    assert shown(first) == newest_first[:PER_PAGE]
    assert 'data-testid="newer"' not in first.content.decode()
    second = client.get(URL, {"before": newest_first[PER_PAGE - 1]})
    assert shown(second) == newest_first[PER_PAGE : PER_PAGE * 2]
    third = client.get(URL, {"before": newest_first[PER_PAGE * 2 - 1]})
    assert shown(third) == newest_first[PER_PAGE * 2 :]
    assert 'data-testid="older"' not in third.content.decode()
    back = client.get(URL, {"after": newest_first[PER_PAGE * 2]})
    assert shown(back) == newest_first[PER_PAGE : PER_PAGE * 2]
    # links keep the filters
    filtered = client.get(URL, {"action": "thing"}).content.decode()
    assert f"?action=thing&amp;before={newest_first[PER_PAGE - 1]}" in filtered


def test_detail_shows_everything(auditor, client):
    created = event(action="promotion.created", object_id="9", data={"after": {"name_en": "Spring", "budget": None}})
    refund = event(action="refund.start", object_type="orders.refund", object_id="3", reason="Double charge",
                   data={"amount": "5.00", "policy": {"keep": True}})  # fmt: skip

    page = client.get(reverse("backoffice:audit_detail", args=[created.pk])).content.decode()
    row = page.split('data-testid="change-name_en"', 1)[1].split("</tr>", 1)[0]
    assert "Spring" in row and "–" in row  # nothing before: it was created
    assert 'data-testid="change-budget"' in page

    page = client.get(reverse("backoffice:audit_detail", args=[refund.pk])).content.decode()
    assert 'data-testid="changes"' not in page
    assert "Double charge" in page and "orders.refund:3" in page
    assert "5.00" in page.split('data-testid="fact-amount"', 1)[1].split("</tr>", 1)[0]
    assert "{&quot;keep&quot;: true}" in page.split('data-testid="fact-policy"', 1)[1].split("</tr>", 1)[0]
    assert client.get(reverse("backoffice:audit_detail", args=[refund.pk + 100])).status_code == 404


def test_only_changed_keys_are_listed(auditor, client):
    row = event(data={"before": {"budget": "10", "name_en": "Same"}, "after": {"budget": "20", "name_en": "Same"},
                      "note": "by hand"})  # fmt: skip
    page = client.get(reverse("backoffice:audit_detail", args=[row.pk])).content.decode()
    assert 'data-testid="change-budget"' in page and 'data-testid="change-name_en"' not in page
    assert 'data-testid="fact-note"' in page


def test_csv_of_the_filtered_log_with_formulas_kept_as_text(auditor, client):
    # given one row whose free text a spreadsheet would run
    hostile = event(actor_label="=cmd|' /C calc'!A0", action="promotion.paused", reason="+1 day", ip="192.0.2.1",
                    request_id="-x", data={"before": {"paused": False}, "after": {"paused": True}})  # fmt: skip
    event(action="order.create")
    # when
    response = client.get(URL, {"action": "promotion", "format": "csv"})
    # then
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["id", "at", "actor_id", "actor", "action", "object_type", "object_id", "reason", "ip",
                       "request_id", "data"]  # fmt: skip
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["id"] == str(hostile.pk) and row["ip"] == "192.0.2.1"
    assert row["actor"] == "'=cmd|' /C calc'!A0" and row["reason"] == "'+1 day" and row["request_id"] == "'-x"
    assert row["data"] == '{"after": {"paused": true}, "before": {"paused": false}}'


# The database keeps the log append-only -----------------------------------------------------------


@override_settings(REFILL_LEDGER_GUARD=True)  # the test settings let the runner empty tables on SQLite
def test_the_database_refuses_to_change_or_delete_an_audit_row():
    row = event(reason="original")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(reason="edited")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        row.reason = "edited"
        row.save()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).delete()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET ip = '192.0.2.9'")
    row.refresh_from_db()
    assert row.reason == "original" and row.ip is None and AuditEvent.objects.count() == 1
