"""NUL and other control characters never reach the database (issue 24 item 4). PostgreSQL refuses a
NUL in text and in JSON (the import then fails with a database error); on SQLite the NUL would be
stored. Every importer drops them from its cells as it reads them; text posted outside a form
field is cleaned the same way; every text form field refuses a NUL."""

import importlib
import json
import pkgutil
import uuid

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import ProhibitNullCharactersValidator
from stdnum import luhn

import refill
from refill.audit.models import AuditEvent
from refill.esim.inventory import inventory_import
from refill.esim.models import Profile, ProfileBatch
from refill.fleets.models import BulkJobLine, LineGroup
from refill.fleets.numbers import numbers_from_csv, numbers_from_text
from refill.ops.safetext import clean_text, has_control_characters
from refill.vouchers.models import Voucher
from refill.vouchers.services import voucher_batch_generate, voucher_batch_import
from tests.factories import login, make_staff

pytestmark = pytest.mark.django_db

CONTROLS = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85"


def iccid(n: int) -> str:
    body = f"8901410{n:011d}"
    return body + luhn.calc_check_digit(body)


def clean(value) -> bool:
    """No control character anywhere in ``value`` (a string, or JSON data)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return not has_control_characters(text, multiline=True)


def test_the_shared_cleaning_drops_control_characters_and_keeps_line_breaks_where_asked():
    assert clean_text("+1202\x00555") == "+1202555"
    assert clean_text(f"a{CONTROLS}b") == "ab"
    assert clean_text("one\ttwo\r\nthree") == "one two  three"
    assert clean_text("one\ttwo\r\nthree\x00", multiline=True) == "one\ttwo\r\nthree"
    assert clean_text("新号码 =1+2") == "新号码 =1+2"  # only controls: other text is the user's


def test_inventory_import_stores_its_report_names_and_profiles_without_control_characters():
    content = (
        "ICCID,IMSI,Profile Type\n"
        f"8901\x00410,310150000000001,consumer\n"  # rejected: its cell is in the report (JSON)
        f"{iccid(2)}\x00,310150000000002\x1b,con\x00sumer\n"  # a good row once its controls are gone
        f"{iccid(3)},31015" "\x00" "0000000003,io\x07t\n"
    ).encode()
    batch = inventory_import(file_name="acme\x00.csv", content=content, vendor="Acme\x00 SIM\x1b")
    batch = ProfileBatch.objects.get(pk=batch.pk)  # as stored
    assert batch.rejected and clean(batch.rejected) and clean(batch.file_name) and clean(batch.vendor)
    assert (batch.file_name, batch.vendor) == ("acme.csv", "Acme SIM")
    assert [entry["iccid"] for entry in batch.rejected] == ["8901410"]
    stored = list(Profile.objects.values_list("iccid", "imsi", "profile_type").order_by("iccid"))
    assert stored == [(iccid(2), "310150000000002", "consumer"), (iccid(3), "310150000000003", "iot")]


def test_pin_import_stores_serials_without_control_characters():
    text = (
        "serial,pin,face_value,currency\n"
        "S\x000001,1000000000000001,5.00,US\x00D\n"
        "S0002\x1b,1000000000000002,5.00,USD\n"
    )
    report = voucher_batch_import(text=text)
    assert report.created == 2, report.errors
    assert sorted(Voucher.objects.values_list("serial", flat=True)) == ["S0001", "S0002"]


def test_fleet_numbers_from_a_file_or_typed_have_no_control_characters():
    assert numbers_from_csv(b"number\n+1202\x00555\n\x00\n+1202\x1b6000001\n") == ["+1202555", "+12026000001"]
    assert numbers_from_text("+1202\x01555\n\x00\n") == ["+1202555"]


def test_a_fleet_csv_row_with_a_nul_is_stored_without_it(client):
    from tests.integration.fleets.conftest import Fleet

    fleet = Fleet(2)
    login(client, fleet.admin)
    upload = SimpleUploadedFile("numbers.csv", b"number\n+1202\x00555\n" + fleet.lines[0].msisdn.encode() + b"\n")
    response = client.post(
        "/fleet/jobs/", {"action": "renew", "periods": "1", "idempotency_key": uuid.uuid4().hex, "csv_file": upload}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    stored = list(BulkJobLine.objects.order_by("position").values_list("msisdn", flat=True))
    assert stored == ["+1202555", fleet.lines[0].msisdn]


def test_a_fleet_group_renamed_outside_a_form_field_is_stored_without_control_characters(client):
    from tests.integration.fleets.conftest import Fleet

    fleet = Fleet(1)
    group = LineGroup.objects.create(customer=fleet.customer, name="Vans")
    login(client, fleet.admin)
    client.post(f"/fleet/groups/{group.pk}/", {"name": "Trucks\x00\x1b north"})
    group.refresh_from_db()
    assert group.name == "Trucks north"


def test_a_pin_voided_with_a_nul_in_its_reason_is_recorded_without_it(client, django_user_model):
    staff = make_staff(email="void-h9@example.com", permissions=["vouchers.change_voucher"])
    batch, pins = voucher_batch_generate(count=1, face_value="5.00", currency="USD")
    login(client, staff)
    client.post("/backoffice/vouchers/void/", {"reference": pins[0][0] + "\x00", "reason": "lost\x00 card\x1b"})
    assert Voucher.objects.get(serial=pins[0][0]).state == Voucher.State.VOIDED
    event = AuditEvent.objects.get(action="voucher.void")
    assert event.reason == "lost card"


def _form_classes() -> set[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(refill.__path__, "refill."):
        if module.name.endswith(".forms") or module.name.endswith("_forms"):
            importlib.import_module(module.name)
    found, todo = set(), [forms.BaseForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("refill."):
                found.add(sub)
    return found


def test_every_text_field_of_every_form_refuses_a_nul():
    """Portal, back office, agent desk, fleets, support and help: a typed NUL is a form error (Django's
    CharField validator), never stored."""
    classes = _form_classes()
    assert len(classes) > 20
    checked = 0
    for cls in classes:
        for name, field in getattr(cls, "base_fields", {}).items():
            if isinstance(field, forms.CharField):
                checked += 1
                assert any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators), (cls, name)
    assert checked > 30
