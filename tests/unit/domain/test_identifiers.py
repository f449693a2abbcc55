import pytest

from refill.domain.identifiers import (
    InvalidIdentifier,
    format_msisdn,
    normalize_eid,
    normalize_iccid,
    normalize_imei,
    normalize_imsi,
    normalize_msisdn,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 202 555 0143", None, "+12025550143"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+44 7911 123456", None, "+447911123456"),
    ],
)
def test_msisdn_valid(raw, region, expected):
    assert normalize_msisdn(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "12345", "+0 123", "+1 202 555", "+86 123", "not a number", "+1 999 555 0143"])
def test_msisdn_invalid(raw):
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_msisdn(raw, "US")
    assert caught.value.code == "invalid_msisdn"


def test_msisdn_display_format():
    assert format_msisdn("+8613800138000") == "+86 138 0013 8000"
    assert format_msisdn("+12025550143") == "+1 202-555-0143"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8931070820307245732", "8931070820307245732"),
        ("89014103211118510720", "89014103211118510720"),
        ("8931 0708 2030 7245 732", "8931070820307245732"),
        ("8931070820307245732f", "8931070820307245732"),
        ("8931070820307245732F", "8931070820307245732"),
    ],
)
def test_iccid_valid(raw, expected):
    assert normalize_iccid(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "8931070820307245733",  # bad Luhn
        "7931070820307245732",  # wrong prefix
        "89310708203072",  # too short
        "893107082030724573211",  # too long
        "89310708203072457X2",  # not digits
        "",
    ],
)
def test_iccid_invalid(raw):
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_iccid(raw)
    assert caught.value.code == "invalid_iccid"


def test_eid():
    assert normalize_eid("89049032007008882600000000000020") == "89049032007008882600000000000020"
    with pytest.raises(InvalidIdentifier):
        normalize_eid("89049032007008882600000000000021")
    with pytest.raises(InvalidIdentifier):
        normalize_eid("8904903200700888260000000000002")


def test_imsi_and_imei():
    assert normalize_imsi("310150123456789") == "310150123456789"
    with pytest.raises(InvalidIdentifier):
        normalize_imsi("3101501234")
    assert normalize_imei("490154203237518") == "490154203237518"
    with pytest.raises(InvalidIdentifier):
        normalize_imei("490154203237519")
