import pytest

from refill.esim.inventory import ImportRefused, inventory_import
from refill.esim.models import Profile, ProfileBatch
from tests.factories import esim_batch_iccid

pytestmark = pytest.mark.django_db


def iccid(n: int) -> str:
    return esim_batch_iccid(0, n)


def imsi(n: int) -> str:
    return f"2341500000{n:05d}"


def csv_of(*rows: tuple[str, str, str], header="ICCID,IMSI,Profile Type", sep=",") -> bytes:
    return ("\n".join([header.replace(",", sep), *(sep.join(r) for r in rows)]) + "\n").encode()


def test_imports_valid_rows_and_reports_each_bad_one():
    content = csv_of(
        (iccid(1), imsi(1), "consumer"),
        (iccid(2) + "F", imsi(2), "consumer"),  # a 20-character ICCID ending in F loses the F
        (iccid(3)[:-1] + str((int(iccid(3)[-1]) + 1) % 10), imsi(3), "consumer"),  # wrong check digit
        ("1234567890123456789", imsi(4), "consumer"),  # not 89
        (iccid(5), "12345", "consumer"),  # IMSI too short
        (iccid(6), imsi(6), "bad type!"),
        (iccid(1), imsi(7), "consumer"),  # ICCID again
        (iccid(8), imsi(1), "consumer"),  # IMSI again
    )
    batch = inventory_import(file_name="vendor-1.csv", content=content, vendor="Acme SIM")
    assert (batch.rows, batch.imported, batch.already_known) == (8, 2, 0)
    assert [entry["row"] for entry in batch.rejected] == [4, 5, 6, 7, 8, 9]
    assert "check digit" in batch.rejected[0]["errors"][0]
    assert "89" in batch.rejected[1]["errors"][0]
    assert "row 2" in batch.rejected[4]["errors"][0]
    assert set(Profile.objects.values_list("iccid", flat=True)) == {iccid(1), iccid(2)}
    profile = Profile.objects.get(iccid=iccid(2))
    assert (profile.smdp_state, profile.network_state, profile.line) == ("available", "inactive", None)


def test_same_file_again_changes_nothing_and_overlaps_are_known():
    content = csv_of((iccid(1), imsi(1), "consumer"), (iccid(2), imsi(2), "consumer"))
    first = inventory_import(file_name="a.csv", content=content)
    assert inventory_import(file_name="a-again.csv", content=content) == first
    assert ProfileBatch.objects.count() == 1 and Profile.objects.count() == 2
    # a later file with one known row, one new, and one that contradicts the inventory
    later = inventory_import(
        file_name="b.csv",
        content=csv_of(
            (iccid(2), imsi(2), "consumer"), (iccid(3), imsi(3), "consumer"), (iccid(1), imsi(9), "consumer")
        ),
    )
    assert (later.imported, later.already_known, len(later.rejected)) == (1, 1, 1)
    assert "another IMSI" in later.rejected[0]["errors"][0]
    assert Profile.objects.get(iccid=iccid(1)).imsi == imsi(1)


def test_semicolons_any_column_order_and_a_bom():
    content = b"\xef\xbb\xbf" + csv_of((imsi(1), "iot", iccid(1)), header="imsi,profile_type,iccid", sep=";")
    batch = inventory_import(file_name="semi.csv", content=content)
    assert batch.imported == 1 and Profile.objects.get().profile_type == "iot"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty"),
        (b"serial,imsi\n1,2\n", "ICCID"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"iccid,imsi,type\n" + b"x" * (5 * 1024 * 1024), "MB"),
    ],
)
def test_refused_files_write_nothing(content, why):
    with pytest.raises(ImportRefused) as refused:
        inventory_import(file_name="bad.csv", content=content)
    assert why in str(refused.value)
    assert not ProfileBatch.objects.exists() and not Profile.objects.exists()


def test_the_error_report_is_translated():
    from django.utils import translation

    with translation.override("zh-hans"):
        batch = inventory_import(file_name="zh.csv", content=csv_of(("8904410000000000019", imsi(1), "c")))
    assert batch.rejected and not batch.rejected[0]["errors"][0].isascii()
