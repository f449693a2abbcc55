"""Fuzz the importers (eSIM profile CSV, refill PIN CSV, a fleet's CSV of numbers) with arbitrary
bytes and with near-valid files: they never crash, and never import part of something: a refused
file writes nothing, and what a report says was imported is exactly what is in the database; and
nothing stored holds a control character (PostgreSQL refuses a NUL in text and in JSON: the issue 24
item 4 crash). Derandomized: CI runs the same examples every time, NUL and the other control
characters always among them (their own alphabet, and pinned @examples)."""

import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from refill.esim.inventory import ImportRefused, inventory_import
from refill.esim.models import Profile, ProfileBatch
from refill.fleets.errors import FleetRefused
from refill.fleets.numbers import numbers_from_csv
from refill.ops.safetext import has_control_characters
from refill.vouchers.models import Voucher, VoucherBatch
from refill.vouchers.services import voucher_batch_import

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# NUL, the other C0 controls, DEL and a C1 control, tab and line breaks, among digits and letters.
CONTROLS = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\t\r\n"


class Rollback(Exception):
    pass


def isolated(check):
    """Run ``check`` in a transaction rolled back afterwards: each example starts from the same database."""
    try:
        with transaction.atomic():
            check()
            raise Rollback
    except Rollback:
        pass


def iccid(n: int) -> str:
    body = f"8901410{n:011d}"
    return body + luhn.calc_check_digit(body)


CELLS = st.one_of(
    st.text(max_size=25),
    st.text(alphabet=st.sampled_from(CONTROLS + "0123456789+FA "), max_size=25),
    st.integers(min_value=0, max_value=10**20).map(str),
    st.sampled_from(
        [
            "",
            "89",
            "8901410000000000000",
            "F",
            "0" * 15,
            "USD",
            "CNY",
            "XXX",
            "-1",
            "1e9",
            "10.00",
            "8901\x00410",
            "+1202\x00555",
            "\x00",
            "US\x00D",
            "S\x000001",
        ]
    ),  # fmt: skip
)
ICCID_ROWS = st.lists(
    st.tuples(
        st.one_of(st.integers(min_value=0, max_value=50).map(iccid), CELLS),
        st.one_of(st.integers(min_value=310150000000000, max_value=310150000000050).map(str), CELLS),
        st.one_of(st.sampled_from(["consumer", "iot"]), CELLS),
    ),
    max_size=15,
)
SEPARATORS = st.sampled_from([",", ";", "\t", "|"])


def csv_text(header, rows, separator) -> str:
    quote = lambda cell: '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',;\t|"\n\r') else cell  # noqa: E731
    return "\n".join(separator.join(quote(str(cell)) for cell in row) for row in [header, *rows])


def check_inventory(content: bytes) -> None:
    batches, profiles = ProfileBatch.objects.count(), Profile.objects.count()
    try:
        batch = inventory_import(file_name="fuzz.csv", content=content)
    except ImportRefused as exc:
        assert str(exc)  # a reason, in words
        assert (ProfileBatch.objects.count(), Profile.objects.count()) == (batches, profiles)
        return
    new = Profile.objects.count() - profiles
    assert new == batch.imported == Profile.objects.filter(batch=batch).count()
    assert batch.rows >= batch.imported + batch.already_known
    assert all(entry["errors"] for entry in batch.rejected)
    batch.refresh_from_db()  # as stored
    assert no_controls(json.dumps(batch.rejected, ensure_ascii=False)) and no_controls(batch.file_name)
    assert all(no_controls("".join(row)) for row in Profile.objects.values_list("iccid", "imsi", "profile_type"))


def no_controls(text: str) -> bool:
    return not has_control_characters(text, multiline=True)


@FUZZ
@given(content=st.binary(max_size=400))
@example(content=b"ICCID,IMSI,Profile Type\n8901\x00410,310150000000001,consumer\n")
def test_inventory_import_survives_any_bytes(content):
    isolated(lambda: check_inventory(content))


@FUZZ
@given(rows=ICCID_ROWS, separator=SEPARATORS, header=st.permutations(["ICCID", "IMSI", "Profile Type"]))
@example(
    rows=[(iccid(1), "310150000000001", "consumer"), (iccid(1), "310150000000002", "iot"), ("x", "y", "z")],
    separator=",",
    header=["ICCID", "IMSI", "Profile Type"],
)
@example(
    rows=[(iccid(2) + "\x00", "310150000000003", "con\x1bsumer"), ("8901\x00410", "310150000000004", "iot")],
    separator=";",
    header=["ICCID", "IMSI", "Profile Type"],
)
def test_inventory_import_of_near_valid_files_imports_exactly_its_good_rows(rows, separator, header):
    isolated(lambda: check_inventory(csv_text(list(header), rows, separator).encode()))


def check_vouchers(text: str) -> None:
    vouchers, batches = Voucher.objects.count(), set(VoucherBatch.objects.values_list("pk", flat=True))
    report = voucher_batch_import(text=text)
    made = VoucherBatch.objects.exclude(pk__in=batches)
    # Only whole batches: every batch written holds exactly the vouchers it counts, and they are all the new ones.
    assert Voucher.objects.count() - vouchers == report.created == sum(batch.count for batch in made)
    for batch in made:
        assert batch.vouchers.count() == batch.count
        assert all(
            no_controls(serial + currency) for serial, currency in batch.vouchers.values_list("serial", "currency")
        )
    assert all(reason for _, reason in report.errors)


PIN_ROWS = st.lists(
    st.tuples(
        st.one_of(st.integers(min_value=1, max_value=30).map(lambda n: f"S{n:04d}"), CELLS),
        st.one_of(st.integers(min_value=10**15, max_value=10**15 + 30).map(str), CELLS),
        st.one_of(st.sampled_from(["5.00", "10.00", "50.00"]), CELLS),
        st.one_of(st.sampled_from(["USD", "CNY"]), CELLS),
    ),
    max_size=12,
)


@FUZZ
@given(text=st.text(max_size=400))
@example(text="serial,pin,face_value,currency\nS\x000001,1000000000000001,5.00,USD\n")
def test_pin_import_survives_any_text(text):
    isolated(lambda: check_vouchers(text))


@FUZZ
@given(rows=PIN_ROWS)
@example(
    rows=[("S0001", str(10**15), "5.00", "USD"), ("S0002", str(10**15 + 1), "10.00", "CNY"), ("S0003", "1", "x", "y")]
)
def test_pin_import_of_near_valid_files_writes_whole_batches_only(rows):
    isolated(lambda: check_vouchers(csv_text(["serial", "pin", "face_value", "currency"], rows, ",")))


@FUZZ
@given(content=st.binary(max_size=600))
@example(content=b"number\n+1202\x00555\n")
def test_fleet_numbers_csv_survives_any_bytes(content):
    try:
        numbers = numbers_from_csv(content)
    except FleetRefused as exc:
        assert str(exc)
        return
    assert all(isinstance(number, str) and number == number.strip() and number for number in numbers)
    assert all(not has_control_characters(number) for number in numbers)
