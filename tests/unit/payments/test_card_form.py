"""The card fields' rules (issue 26): the number with spaces or dashes and a Luhn check digit, the
expiry as people type it, a 3-4 digit security code; one set of errors; one CardDetails."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.utils import translation

from refill.integrations.payments.base import CardDetails
from refill.payments.card_form import MESSAGES, CardForm, card_expired, card_expiry_parse, card_number_parse

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("4242424242424242", "4242424242424242"),
        ("4242 4242 4242 4242", "4242424242424242"),
        ("4242-4242-4242-4242", "4242424242424242"),
        (" 4000 0000 0000 9995 ", "4000000000009995"),
        ("3782 822463 10005", "378282246310005"),  # Amex, 15 digits
    ],
)
def test_a_number_with_spaces_or_dashes_is_read(typed, digits):
    assert card_number_parse(typed) == digits


@pytest.mark.parametrize(
    "typed",
    ["4242 4242 4242 4241", "", "4242", "4242.4242.4242.4242", "4242 4242 4242 424x", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "4" * 20],
)
def test_a_number_that_is_not_a_card_is_refused(typed):
    assert card_number_parse(typed) is None


@pytest.mark.parametrize("typed", ["1229", "12/29", "12 / 2029", "12/2029", "12-29", "122029", " 12 /29 ", "12 - 2029"])
def test_the_expiry_is_read_as_people_type_it(typed):
    assert card_expiry_parse(typed, today=TODAY) == (12, 2029)


def test_a_one_digit_month_is_read_with_a_separator():
    assert card_expiry_parse("1/30", today=TODAY) == (1, 2030)


@pytest.mark.parametrize("typed", ["", "13/29", "00/29", "12", "12/2", "12/029", "1229x", "12//29", "12/2099", "ab/cd"])
def test_an_expiry_that_is_not_a_month_is_refused(typed):
    assert card_expiry_parse(typed, today=TODAY) is None


def test_a_card_is_good_to_the_end_of_its_month():
    assert not card_expired(12, 2026, today=TODAY)
    assert card_expired(11, 2026, today=TODAY)
    assert not card_expired(1, 2027, today=TODAY)


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):
        yield


def form(**fields):
    data = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 2029", "card_cvc": "123"} | fields
    return CardForm(data)


def test_a_valid_form_gives_card_details(frozen):
    valid = form(card_holder="Ana Lee")
    assert valid.is_valid()
    assert valid.card_details() == CardDetails("4242424242424242", 12, 2029, "123", "Ana Lee")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"card_number": ""}, "card_number", "number_required"),
        ({"card_number": "4242 4242 4242 4241"}, "card_number", "number_invalid"),
        ({"card_expiry": ""}, "card_expiry", "expiry_required"),
        ({"card_expiry": "13/29"}, "card_expiry", "expiry_invalid"),
        ({"card_expiry": "11/26"}, "card_expiry", "expiry_past"),
        ({"card_cvc": ""}, "card_cvc", "cvc_required"),
        ({"card_cvc": "12"}, "card_cvc", "cvc_invalid"),
        ({"card_cvc": "12a"}, "card_cvc", "cvc_invalid"),
        ({"card_cvc": "12345"}, "card_cvc", "cvc_invalid"),
    ],
)
def test_each_field_says_what_is_wrong_in_the_words_the_browser_uses(frozen, fields, field, message):
    refused = form(**fields)
    assert not refused.is_valid()
    assert refused.errors == {field: [str(MESSAGES[message])]}


def test_the_errors_are_translated(frozen):
    with translation.override("zh-hans"):
        refused = form(card_number="4242 4242 4242 4241")
        assert not refused.is_valid()
        (text,) = refused.errors["card_number"]
    assert text != str(MESSAGES["number_invalid"]) and any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_number_is_written_back_but_not_the_security_code(frozen):
    html = form(card_number="4000 0000 0000 9995", card_cvc="987").as_div()
    assert 'value="4000 0000 0000 9995"' in html and "987" not in html
    assert 'autocomplete="cc-number"' in html and 'autocomplete="cc-exp"' in html
    assert 'autocomplete="cc-csc"' in html and 'autocomplete="cc-name"' in html
    assert html.count('inputmode="numeric"') == 3 and " required" not in html


def test_the_counter_never_writes_the_number_back(frozen):
    html = CardForm({"card_number": "4000 0000 0000 9995", "card_expiry": "12/29"}, keep_number=False).as_div()
    assert "9995" not in html


def test_kept_shows_what_was_typed_without_errors():
    kept = CardForm.kept({"card_number": "4242 4242", "card_expiry": "12/29", "card_cvc": "987"})
    html = kept.as_div()
    assert not kept.is_bound and 'value="4242 4242"' in html and 'value="12/29"' in html and "987" not in html
