"""Staff import vendor batches and see the eSIM stock; others cannot. The command line does the same."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from refill.audit.models import AuditEvent
from refill.esim.models import Profile, ProfileBatch
from tests.factories import esim_batch_iccid, login, make_staff

pytestmark = pytest.mark.django_db


def iccid(n: int) -> str:
    return esim_batch_iccid(5, n)


CSV = (f"ICCID;IMSI;Profile type\n{iccid(1)};234150000005001;consumer\n{iccid(2)}F;234150000005002;consumer\n"
       "8904410000000050999;234150000005003;consumer\n").encode()  # fmt: skip


def staff_with(django_user_model, *perms):
    return make_staff(email=f"s{len(perms)}@example.com", permissions=perms)


def test_import_shows_the_report_and_the_stock(client, django_user_model):
    login(client, staff_with(django_user_model, "esim.view_profile", "esim.add_profilebatch"))
    response = client.post(
        "/backoffice/esim/inventory/", {"file": SimpleUploadedFile("acme.csv", CSV), "vendor": "Acme"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="import-report"' in html
    assert "3 rows: 2 imported, 0 already known." in html and "8904410000000050999" in html
    assert Profile.objects.count() == 2 and ProfileBatch.objects.get().vendor == "Acme"
    assert AuditEvent.objects.filter(action="esim.inventory_import").count() == 1
    stock = client.get("/backoffice/esim/inventory/").content.decode()
    assert "consumer" in stock and "acme.csv" in stock


def test_viewers_cannot_import_and_others_cannot_look(client, django_user_model):
    login(client, staff_with(django_user_model, "esim.view_profile"))
    assert client.get("/backoffice/esim/inventory/").status_code == 200
    assert client.post("/backoffice/esim/inventory/", {"file": SimpleUploadedFile("a.csv", CSV)}).status_code == 403
    login(client, staff_with(django_user_model))
    assert client.get("/backoffice/esim/inventory/").status_code == 403
    assert not Profile.objects.exists()


def test_a_refused_file_is_explained(client, django_user_model):
    login(client, staff_with(django_user_model, "esim.view_profile", "esim.add_profilebatch"))
    response = client.post("/backoffice/esim/inventory/", {"file": SimpleUploadedFile("x.csv", b"serial\n1\n")})
    assert response.status_code == 400 and "ICCID" in response.content.decode()
    assert not ProfileBatch.objects.exists()


def test_the_command(tmp_path, capsys):
    path = tmp_path / "batch.csv"
    path.write_bytes(CSV)
    call_command("esim_import", str(path), "--vendor", "Acme")
    out = capsys.readouterr().out
    assert "2 imported" in out and "row 4" in out
    call_command("esim_import", str(path))
    assert Profile.objects.count() == 2 and ProfileBatch.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("esim_import", str(tmp_path / "missing.csv"))
