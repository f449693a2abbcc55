import io

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from refill.domain.activation import ActivationCode, parse_activation_code, qr_png, qr_svg
from refill.domain.identifiers import InvalidIdentifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LPA:1$smdp.example.com$ABC-123", ActivationCode("smdp.example.com", "ABC-123")),
        ("  LPA:1$SMDP.Example.COM$0A1B  ", ActivationCode("smdp.example.com", "0A1B")),
        (
            "LPA:1$rsp.example.net$K2-1$1.3.6.1.4.1.31746",
            ActivationCode("rsp.example.net", "K2-1", "1.3.6.1.4.1.31746"),
        ),
        ("LPA:1$rsp.example.net$K2-1$$1", ActivationCode("rsp.example.net", "K2-1", "", True)),
        ("LPA:1$rsp.example.net$K2-1$2.999.1$1", ActivationCode("rsp.example.net", "K2-1", "2.999.1", True)),
        # SGP.22's own examples: without the QR prefix, and with a v3 field this version ignores
        ("1$SMDP.EXAMPLE.COM$04386-AGYFT-A74Y8-3F815", ActivationCode("smdp.example.com", "04386-AGYFT-A74Y8-3F815")),
        (
            "LPA:1$SMDP.EXAMPLE.NET$KL14XA-8C7RLY$1.3.6.1.4.1.3174$1$X",
            ActivationCode("smdp.example.net", "KL14XA-8C7RLY", "1.3.6.1.4.1.3174", True),
        ),
    ],
)
def test_parse(text, expected):
    assert parse_activation_code(text) == expected


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (ActivationCode("smdp.example.com", "ABC-123"), "LPA:1$smdp.example.com$ABC-123"),
        (ActivationCode("smdp.example.com", "A", "1.2.3"), "LPA:1$smdp.example.com$A$1.2.3"),
        (ActivationCode("smdp.example.com", "A", "", True), "LPA:1$smdp.example.com$A$$1"),
        (ActivationCode("smdp.example.com", "A", "1.2.3", True), "LPA:1$smdp.example.com$A$1.2.3$1"),
    ],
)
def test_format(code, text):
    assert str(code) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "smdp.example.com$ABC",  # no format
        "LPA:2$smdp.example.com$ABC",  # unknown format
        "LPA:1$smdp.example.com",  # no matching ID
        "LPA:1$smdp.example.com$",  # empty matching ID
        "LPA:1$smdp.example.com$abc",  # lower case matching ID
        "LPA:1$smdp.example.com$AB_C",  # not 0-9, A-Z, -
        "LPA:1$smdp$ABC",  # not fully qualified
        "LPA:1$https://smdp.example.com$ABC",  # a URL, not a domain name
        "LPA:1$smdp.example.com:443$ABC",  # no port
        "LPA:1$-smdp.example.com$ABC",  # label starts with a hyphen
        "LPA:1$smdp-.example.com$ABC",  # label ends with a hyphen
        "LPA:1$10.0.0.1$ABC",  # an address, not a name
        f"LPA:1${'a' * 64}.example.com$ABC",  # label too long
        "LPA:1$smdp.example.com$ABC$not-an-oid",
        "LPA:1$smdp.example.com$ABC$1.2$2",  # the flag is 1 or absent
    ],
)
def test_refused(text):
    with pytest.raises(InvalidIdentifier):
        parse_activation_code(text)


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
codes = st.builds(
    ActivationCode,
    smdp_address=st.lists(labels, min_size=1, max_size=4).map(lambda parts: ".".join([*parts, "example"])),
    matching_id=st.from_regex(r"[0-9A-Z-]{1,40}", fullmatch=True),
    oid=st.one_of(st.just(""), st.from_regex(r"[0-2](\.(0|[1-9][0-9]{0,5})){1,6}", fullmatch=True)),
    confirmation_code_required=st.booleans(),
)


@given(codes)
def test_round_trip(code):
    assert parse_activation_code(str(code)) == code
    assert parse_activation_code(str(parse_activation_code(str(code)))) == code


def test_qr_decodes_back_to_the_code():
    code = ActivationCode("smdp.refill.test", "Q7-4F2K-9ZX1", "1.3.6.1.4.1.99999", True)
    image = Image.open(io.BytesIO(qr_png(code)))
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [str(code)]


def test_svg_qr_is_inline_markup():
    svg = qr_svg(ActivationCode("smdp.refill.test", "ABC"), title="QR")
    assert svg.startswith("<svg") and "<title>QR</title>" in svg and "<?xml" not in svg


def test_ios_link_and_masking():
    code = ActivationCode("smdp.refill.test", "ABCD-1234")
    assert code.ios_install_link == (
        "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA%3A1%24smdp.refill.test%24ABCD-1234"
    )
    assert "ABCD-" not in code.masked and code.masked.endswith("1234")
