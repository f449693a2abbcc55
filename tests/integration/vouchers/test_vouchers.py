import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.ledger.models import Account
from refill.ledger.services import account_balance, account_for, wallet_balance
from refill.vouchers.errors import (
    InvalidBatch,
    NumberNotFound,
    TooManyPinAttempts,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherUnknown,
    VoucherVoided,
    VoucherWrongCurrency,
)
from refill.vouchers.models import Voucher
from refill.vouchers.services import (
    pins_csv,
    voucher_batch_generate,
    voucher_batch_import,
    voucher_redeem,
    voucher_void,
    vouchers_expire_sweep,
)
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market)
    customer, _ = make_customer()
    make_line(customer, market, plan, msisdn="+12025550149")  # a USD number: USD PINs can be spent
    friend, _ = make_customer()
    friend_line = make_line(friend, market, plan, msisdn="+12025550150")
    return market, customer, friend, friend_line


def test_generate_stores_only_hashes_and_fills_the_float(world):
    batch, pins = voucher_batch_generate(count=5, face_value="10.00", currency="USD")
    assert len(pins) == 5 and all(len(pin) == 16 and pin.isdigit() for _, pin in pins)
    stored = " ".join(str(value) for row in Voucher.objects.values() for value in row.values())
    assert not any(pin in stored for _, pin in pins)
    assert account_balance(account_for(Account.Purpose.VOUCHER_FLOAT, "USD")) == Decimal("50.00")
    rows = list(csv.DictReader(io.StringIO(pins_csv(batch, pins))))
    assert [row["pin"] for row in rows] == [pin for _, pin in pins] and rows[0]["face_value"] == "10.00"
    expires = Voucher.objects.first().expires_at
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)


@pytest.mark.parametrize(
    ("count", "face", "currency"), [(0, "10", "USD"), (5, "0", "USD"), (5, "1.001", "USD"), (5, "10", "XXX")]
)
def test_generate_refuses_bad_batches(count, face, currency):
    with pytest.raises(InvalidBatch):
        voucher_batch_generate(count=count, face_value=face, currency=currency)
    assert not Voucher.objects.exists()


def test_redeem_onto_own_wallet_once(world):
    market, customer, friend, friend_line = world
    _, pins = voucher_batch_generate(count=1, face_value="20.00", currency="USD")
    voucher = voucher_redeem(pin=pins[0][1], customer=customer, ip="10.0.0.1")
    assert voucher.state == "redeemed" and wallet_balance(customer, "USD") == Decimal("20.00")
    with pytest.raises(VoucherAlreadyUsed):
        voucher_redeem(pin=pins[0][1], customer=customer, ip="10.0.0.1")
    assert wallet_balance(customer, "USD") == Decimal("20.00")
    assert account_balance(account_for(Account.Purpose.VOUCHER_FLOAT, "USD")) == 0


def test_gift_onto_any_number(world):
    market, customer, friend, friend_line = world
    _, pins = voucher_batch_generate(count=1, face_value="15.00", currency="USD")
    voucher_redeem(
        pin=" ".join(pins[0][1][i : i + 4] for i in range(0, 16, 4)), customer=customer, gift_msisdn="(202) 555-0150"
    )
    assert wallet_balance(friend, "USD") == Decimal("15.00") and wallet_balance(customer, "USD") == 0


def test_gift_errors(world):
    market, customer, friend, friend_line = world
    _, pins = voucher_batch_generate(count=1, face_value="68.00", currency="CNY")
    with pytest.raises(NumberNotFound):
        voucher_redeem(pin=pins[0][1], customer=customer, gift_msisdn="+12025550999")
    with pytest.raises(VoucherWrongCurrency):
        voucher_redeem(pin=pins[0][1], customer=customer, gift_msisdn="+12025550150")
    assert Voucher.objects.get().state == "active"


def test_unknown_expired_and_voided_pins(world):
    market, customer, friend, friend_line = world
    _, pins = voucher_batch_generate(count=2, face_value="5.00", currency="USD")
    with pytest.raises(VoucherUnknown):
        voucher_redeem(pin="1234567890123456", customer=customer)
    first, second = Voucher.objects.order_by("serial")
    assert voucher_void(voucher=first, reason="lost in transit") is True
    assert voucher_void(voucher=first, reason="again") is False
    with pytest.raises(VoucherVoided):
        voucher_redeem(pin=pins[0][1], customer=customer)
    with pytest.raises(VoucherExpired):
        voucher_redeem(pin=pins[1][1], customer=customer, now=second.expires_at + timedelta(seconds=1))
    assert vouchers_expire_sweep(now=second.expires_at + timedelta(seconds=1)) == 1
    assert vouchers_expire_sweep(now=second.expires_at + timedelta(seconds=1)) == 0
    assert account_balance(account_for(Account.Purpose.VOUCHER_FLOAT, "USD")) == 0
    assert account_balance(account_for(Account.Purpose.VOUCHER_BREAKAGE, "USD")) == Decimal("5.00")
    assert wallet_balance(customer, "USD") == 0


def test_misses_lock_the_account_out(world):
    market, customer, friend, friend_line = world
    _, pins = voucher_batch_generate(count=1, face_value="5.00", currency="USD")
    for attempt in range(5):
        with pytest.raises(VoucherUnknown):
            voucher_redeem(pin=f"99999999999999{attempt:02d}", customer=customer, ip="10.0.0.2")
    with pytest.raises(TooManyPinAttempts):
        voucher_redeem(pin=pins[0][1], customer=customer, ip="10.0.0.3")  # even the right PIN
    # another account from the same address still may, until the address limit
    voucher_redeem(pin=pins[0][1], customer=friend, ip="10.0.0.2")


def test_address_limit(world):
    market, customer, friend, friend_line = world
    customers = [make_customer()[0] for _ in range(5)]
    for index in range(20):
        with pytest.raises(VoucherUnknown):
            voucher_redeem(
                pin=f"88888888888888{index:02d}", customer=customers[index % 5] if index < 15 else None, ip="10.9.9.9"
            )
    with pytest.raises(TooManyPinAttempts):
        voucher_redeem(pin="7777777777777777", customer=customer, ip="10.9.9.9")


def test_import_reports_bad_rows_and_is_idempotent(world):
    future = (timezone.now() + timedelta(days=30)).date().isoformat()
    text = "\n".join(
        [
            "serial,pin,face_value,currency,expires_at",
            f"S-1,1111222233334444,10.00,USD,{future}",
            "S-2,1111222233335555,10.00,USD,",
            "S-3,12,10.00,USD,",
            "S-4,1111222233336666,-1,USD,",
            "S-5,1111222233337777,10.00,USD,2001-01-01",
            "S-1,1111222233338888,10.00,USD,",
            "S-6,1111222233339999,68.00,CNY,",
        ]
    )
    report = voucher_batch_import(text=text)
    assert report.created == 3 and len(report.batches) == 2
    assert [line for line, _ in report.errors] == [4, 5, 6, 7]
    assert account_balance(account_for(Account.Purpose.VOUCHER_FLOAT, "USD")) == Decimal("20.00")
    again = voucher_batch_import(text=text)
    assert again.created == 0 and again.already_present == 3 and again.batches == []
    assert Voucher.objects.count() == 3
    clash = voucher_batch_import(text="serial,pin,face_value,currency\nS-1,5555666677778888,10.00,USD\n")
    assert clash.created == 0 and "different PIN" in clash.errors[0][1]
    bad_header = voucher_batch_import(text="a,b\n1,2\n")
    assert bad_header.errors and bad_header.created == 0


def test_own_wallet_only_in_a_currency_the_customer_can_spend(world):
    market, customer, friend, friend_line = world
    _, pins = voucher_batch_generate(count=1, face_value="50.00", currency="CNY")
    with pytest.raises(VoucherWrongCurrency):
        voucher_redeem(pin=pins[0][1], customer=customer)
    assert Voucher.objects.get().state == "active"


def test_import_survives_broken_csv_and_reports_duplicate_pins():
    huge = "serial,pin,face_value,currency\nS-1," + "1" * 200_000 + ",10.00,USD\n"
    report = voucher_batch_import(text=huge)
    assert report.created == 0 and report.errors
    text = "\n".join(
        [
            "serial,pin,face_value,currency",
            "D-1,1111222233334444,10.00,USD",
            "D-2,1111222233334444,10.00,USD",
            "D-3,5555666677778888,10.00,USD",
        ]
    )
    report = voucher_batch_import(text=text)
    assert report.created == 2 and report.errors == [(3, "this PIN is already on line 2 of the file")]


def test_batch_value_is_capped():
    with pytest.raises(InvalidBatch):
        voucher_batch_generate(count=200, face_value="9999.00", currency="USD")
    with pytest.raises(InvalidBatch):
        voucher_batch_generate(count=1, face_value="10000.01", currency="USD")
