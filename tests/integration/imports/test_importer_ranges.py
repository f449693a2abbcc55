"""The importers' cells out of range (issue 24, item 3): impossible dates and times, numbers too big
or too fine for any column, lone surrogates. Each such row is refused in words with its line
number, the rest of the file is imported as usual, and nothing raises. Derandomized: CI runs the
same examples every time (those that found these bugs are pinned with @example)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from refill.esim.inventory import ImportRefused, inventory_import
from refill.fleets.errors import FleetRefused
from refill.fleets.numbers import numbers_from_csv
from refill.vouchers.models import Voucher
from refill.vouchers.services import voucher_batch_import
from tests.factories import login, make_staff
from tests.integration.imports.test_importer_fuzz import check_inventory, check_vouchers, csv_text, iccid, isolated
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    """ "In the past" and "10 years away" are measured from a fixed noon, not from the clock."""
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):
        yield


RANGES = settings(
    max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

BAD_DATES = st.one_of(
    st.sampled_from(
        [
            "2027-02-30",
            "2027-01-01T25:00:00",
            "2027-13-01",
            "2027-00-10",
            "2027-01-01T23:60:00",
            "2027-01-01T23:59:61",
            "9999-12-31T23:59:59-12:00",
            "9999-12-31",
            "0001-01-01",
            "0000-01-01",
            "2027-01-01T00:00:00+25:00",
            "2027-01-01T00:00:00+99:99",
            "99999-01-01",
            "2027-1-1",
            "2027-02-29",
            "2028-02-29T24:00:00",
            "2027-06-01T12:00:00.9999999999Z",
            "+2027-01-01",
            "2027-01-01T12:00:00\ud800",
        ]
    ),  # fmt: skip
    st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format,
        st.integers(0, 99999),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
    ),  # fmt: skip
)
BAD_NUMBERS = st.one_of(
    st.sampled_from(
        [
            "1e400",
            "-1e400",
            "1e-400",
            "1E+30",
            "0.00001",
            "NaN",
            "sNaN",
            "Infinity",
            "-0",
            "0E-1000000",
            "9" * 400,
            "1_000",
            "１０",
            "٣",
            "10.00\ud800",
            "+-1",
            "0x10",
            "1e999999999999",
        ]
    ),  # fmt: skip
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
SURROGATES = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3)
ODD_TEXT = st.one_of(BAD_NUMBERS, BAD_DATES, SURROGATES, st.text(max_size=12), SURROGATES.map(lambda s: "S0001" + s))
PIN_ROWS = st.lists(
    st.tuples(
        st.one_of(st.integers(min_value=1, max_value=30).map(lambda n: f"S{n:04d}"), ODD_TEXT),
        st.one_of(st.integers(min_value=10**15, max_value=10**15 + 30).map(str), ODD_TEXT),
        st.one_of(st.sampled_from(["5.00", "10.00"]), BAD_NUMBERS),
        st.sampled_from(["USD", "CNY"]),
        st.one_of(st.sampled_from(["", "2030-01-01"]), BAD_DATES),
    ),
    max_size=8,
)


@RANGES
@given(rows=PIN_ROWS)
@example(rows=[("S0001", str(10**15), "10.00", "USD", "2027-02-30")])
@example(rows=[("S0001", str(10**15), "10.00", "USD", "2027-01-01T25:00:00")])
@example(rows=[("S0001", str(10**15), "1e400", "USD", "")])
@example(rows=[("S0001\ud800", str(10**15), "10.00", "USD", "")])
@example(rows=[("S0001", str(10**15), "10.00", "USD", "9999-12-31T23:59:59-12:00")])
def test_pin_import_refuses_out_of_range_cells_row_by_row(rows):
    isolated(lambda: check_vouchers(csv_text(["serial", "pin", "face_value", "currency", "expires_at"], rows, ",")))


@pytest.mark.parametrize(
    "expires_at, face_value",
    [("2027-02-30", "10.00"), ("2027-01-01T25:00:00", "10.00"), ("2030-01-01", "1e400"), ("99999-01-01", "10.00")],
)
def test_a_pin_row_out_of_range_is_refused_in_words_and_the_good_row_imported(expires_at, face_value):
    text = csv_text(
        ["serial", "pin", "face_value", "currency", "expires_at"],
        [
            ("S0001", str(10**15), face_value, "USD", expires_at),
            ("S0002", str(10**15 + 1), "5.00", "USD", "2030-01-01"),
        ],
        ",",
    )
    report = voucher_batch_import(text=text)
    assert report.created == 1 and [number for number, _ in report.errors] == [2]
    assert report.errors[0][1]  # a reason, in words
    assert list(Voucher.objects.values_list("serial", flat=True)) == ["S0002"]


def test_a_pin_expiry_beyond_ten_years_is_refused():
    text = "serial,pin,face_value,currency,expires_at\nS0001,1000000000000000,10.00,USD,9999-12-31\n"
    report = voucher_batch_import(text=text)
    assert report.created == 0 and "10 years" in report.errors[0][1]


INVENTORY_ROWS = st.lists(
    st.tuples(
        st.one_of(st.integers(min_value=0, max_value=50).map(iccid), ODD_TEXT, BAD_NUMBERS),
        st.one_of(st.integers(min_value=310150000000000, max_value=310150000000050).map(str), BAD_NUMBERS, ODD_TEXT),
        st.one_of(st.sampled_from(["consumer", "iot"]), ODD_TEXT),
    ),
    max_size=10,
)


def encodable(text: str) -> bytes:
    """What a file can hold: a lone surrogate cannot be written as UTF-8 (surrogatepass writes the
    bytes a broken encoder would, which the importer must refuse)."""
    return text.encode("utf-8", "surrogatepass")


@RANGES
@given(rows=INVENTORY_ROWS)
@example(rows=[(iccid(1), "1e400", "consumer"), ("9" * 400, "310150000000001", "iot")])
def test_inventory_import_refuses_out_of_range_cells(rows):
    isolated(lambda: check_inventory(encodable(csv_text(["ICCID", "IMSI", "Profile Type"], rows, ","))))


@RANGES
@given(cells=st.lists(st.one_of(ODD_TEXT, st.integers(-(2**80), 2**80).map(str)), max_size=10))
def test_fleet_numbers_csv_with_out_of_range_cells(cells):
    content = encodable("number\n" + "\n".join(cell.replace("\n", " ") for cell in cells))
    try:
        numbers = numbers_from_csv(content)
    except FleetRefused as exc:
        assert str(exc)
        return
    for number in numbers:
        number.encode("utf-8")  # storable: no lone surrogate survives


def test_importers_refuse_a_file_with_an_encoded_surrogate():
    with pytest.raises(ImportRefused):
        inventory_import(file_name="x.csv", content=encodable(f"ICCID,IMSI,Profile Type\n{iccid(1)}\ud800,1,x\n"))
    with pytest.raises(FleetRefused):
        numbers_from_csv(encodable("number\n+1202555\udc000143\n"))


def test_the_back_office_import_page_reports_out_of_range_rows(client, django_user_model):

    user = make_staff(email="pins@example.com", permissions=["vouchers.view_voucherbatch", "vouchers.add_voucherbatch"])
    login(client, user)
    text = csv_text(
        ["serial", "pin", "face_value", "currency", "expires_at"],
        [
            ("S0001", str(10**15), "10.00", "USD", "2027-02-30"),
            ("S0002", str(10**15 + 1), "10.00", "USD", "2027-01-01T25:00:00"),
            ("S0003", str(10**15 + 2), "1e400", "USD", "2030-01-01"),
            ("S0004", str(10**15 + 3), "5.00", "USD", "2030-01-01"),
        ],
        ",",
    )
    answer = client.post(reverse("backoffice:vouchers_import"), {"pasted": text})
    assert answer.status_code == 200
    report = visible_text(answer.content.decode())
    assert all(f"Line {n}:" in report for n in (2, 3, 4)) and "Line 5" not in report
    assert list(Voucher.objects.values_list("serial", flat=True)) == ["S0004"]
