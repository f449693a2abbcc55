"""The card form on every page that shows it (issue 26): the server's checks are the browser's, said
next to each field and summarised at the top; after a refusal the number, name and expiry come back
filled in (the security code does not, and the page says so); nothing is charged or ordered for a
card the form refuses."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.orders.models import Order
from refill.payments.models import Payment, PaymentMethod
from refill.subscriptions.models import Period
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_promotion, renew

pytestmark = pytest.mark.django_db

GOOD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123", "card_holder": "Ana Lee"}


@pytest.fixture
def world(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    customer, user = make_customer("cardform@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    renew(line, plan, now=timezone.now() - timedelta(days=10))
    login(client, user)
    return market, plan, customer, line


def _value(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*', page).group(0)


def renew_form(client, line, **card):
    page = client.get(reverse("portal:renew", args=[line.pk]), {"plan": "us-30day"}).content.decode()
    return {
        "plan": "us-30day",
        "periods": 1,
        "idempotency_key": re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1),
        "expected_total": re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1),
        "pay_with": "card",
        "action": "pay",
        **GOOD,
        **card,
    }


def field_error(page: str, field: str) -> str:
    """The text of the error shown under ``field`` ('' when hidden)."""
    found = re.search(
        rf'<p class="error" id="id_{field}_error" data-testid="{field}-error"( hidden)?>([^<]*)</p>', page
    )
    assert found is not None, field
    return "" if found.group(1) else found.group(2)


def summary(page: str) -> str:
    found = re.search(r'data-testid="card-error-summary"( hidden)?>(.*?)</div>', page, re.S)
    return "" if found.group(1) else found.group(2)


@pytest.mark.parametrize(
    ("card", "field", "words"),
    [
        ({"card_number": "4242 4242 4242 4241"}, "card_number", "The card number is not valid"),
        ({"card_number": ""}, "card_number", "Enter the card number."),
        ({"card_expiry": "13/29"}, "card_expiry", "Enter the expiry as MM/YY"),
        ({"card_expiry": "11/20"}, "card_expiry", "This card has expired"),
        ({"card_cvc": "12"}, "card_cvc", "Enter the 3 or 4 digit security code"),
    ],
)
def test_a_card_the_form_refuses_is_said_by_field_and_in_the_summary(client, world, card, field, words):
    market, plan, customer, line = world
    answer = client.post(reverse("portal:renew", args=[line.pk]), renew_form(client, line, **card))
    page = answer.content.decode()
    assert answer.status_code == 400
    assert words in field_error(page, field) and words in summary(page)
    assert f'href="#id_{field}"' in summary(page)
    tag = re.search(rf'<input[^>]*id="id_{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and f"id_{field}_error" in tag
    # the other fields say nothing, and nothing was ordered or charged
    assert all(field_error(page, other) == "" for other in ("card_number", "card_expiry", "card_cvc") if other != field)
    assert not Order.objects.filter(customer=customer, status=Order.Status.AWAITING_PAYMENT).exists()
    assert Payment.objects.count() == 1  # the fixture's renewal only


def test_a_decline_comes_back_with_the_number_name_and_expiry_and_a_second_card_pays(client, world):
    market, plan, customer, line = world
    form = renew_form(client, line, card_number="4000 0000 0000 9995", card_expiry="1229", card_cvc="987")
    answer = client.post(reverse("portal:renew", args=[line.pk]), form)
    page = answer.content.decode()
    assert answer.status_code == 402 and 'data-testid="payment-error"' in page
    assert "no-store" in answer["Cache-Control"]  # a page holding a typed card number is never kept
    assert 'value="4000 0000 0000 9995"' in _value(page, "card_number")
    assert 'value="1229"' in _value(page, "card_expiry") and 'value="Ana Lee"' in _value(page, "card_holder")
    # The security code is given back nowhere (as a value or text; the page's own URLs may hold
    # the digits, e.g. /lines/1987/, so the property is checked as a value, not as a substring).
    assert "value=" not in _value(page, "card_cvc") and '="987"' not in page and ">987<" not in page
    assert 'data-testid="card_cvc-help"' in page and "type it again" in page
    assert summary(page) == ""  # a decline is not a typing mistake: said once, at the top
    periods = Period.objects.filter(line=line).count()
    paid = client.post(reverse("portal:renew", args=[line.pk]), {**form, **GOOD, "card_expiry": "12 / 2029"})
    assert paid.status_code == 302 and Period.objects.filter(line=line).count() == periods + 1


def test_applying_a_promotion_code_keeps_the_card_typed_without_saying_it_is_wrong(client, world):
    market, plan, customer, line = world
    make_promotion(market, code="SPRING")
    form = renew_form(client, line, promotion_code="NOSUCHCODE", action="quote", card_cvc="", card_expiry="12/3")
    page = client.post(reverse("portal:renew", args=[line.pk]), form).content.decode()
    assert 'value="4242 4242 4242 4242"' in _value(page, "card_number") and 'value="12/3"' in _value(
        page, "card_expiry"
    )
    assert summary(page) == "" and field_error(page, "card_expiry") == ""
    assert 'data-testid="card_cvc-help"' not in page  # nothing was tried yet


def test_the_wallet_top_up_keeps_the_number_after_a_decline(client, world):
    page = client.get(reverse("portal:wallet")).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    data = {"market": "us", "amount": "20", "idempotency_key": key, **GOOD, "card_number": "4000-0000-0000-9995"}
    answer = client.post(reverse("portal:wallet"), data)
    assert answer.status_code == 402 and "no-store" in answer["Cache-Control"]
    assert 'value="4000-0000-0000-9995"' in _value(answer.content.decode(), "card_number")


def test_saving_a_card_refuses_a_past_expiry_by_field(client, world):
    market, plan, customer, line = world
    answer = client.post(reverse("portal:payment_methods"), {"action": "add", **GOOD, "card_expiry": "01/21"})
    page = answer.content.decode()
    assert answer.status_code == 400 and "This card has expired" in field_error(page, "card_expiry")
    assert 'value="4242 4242 4242 4242"' in _value(page, "card_number")
    assert not PaymentMethod.objects.filter(customer=customer).exists()
    saved = client.post(reverse("portal:payment_methods"), {"action": "add", **GOOD, "card_expiry": "1239"})
    assert saved.status_code == 302
    method = PaymentMethod.objects.get(customer=customer)
    assert (method.exp_month, method.exp_year) == (12, 2039)


def test_the_add_on_page_keeps_the_card_when_a_pass_is_chosen_again(client, world):
    market, plan, customer, line = world
    make_plan(market, "us-data-5gb", price="10.00", kind="addon", name_en="5 GB Data Booster")
    data = {"plan": "us-data-5gb", "idempotency_key": "k1", "action": "quote", "pay_with": "card", **GOOD}
    page = client.post(reverse("portal:addons", args=[line.pk]), data).content.decode()
    assert 'value="4242 4242 4242 4242"' in _value(page, "card_number")


def test_every_card_page_has_the_fields_people_and_phones_expect(client, world):
    market, plan, customer, line = world
    for url in (reverse("portal:renew", args=[line.pk]), reverse("portal:wallet"), reverse("portal:payment_methods")):
        page = client.get(url).content.decode()
        for name, autocomplete in (("card_number", "cc-number"), ("card_expiry", "cc-exp"), ("card_cvc", "cc-csc")):
            tag = _value(page, name)
            assert f'autocomplete="{autocomplete}"' in tag and 'inputmode="numeric"' in tag, (url, name)
        assert 'autocomplete="cc-name"' in _value(page, "card_holder")
        assert re.search(r'<script src="/static/refill/card-form\.js[^"]*" defer></script>', page), url
        assert 'data-msg-number-invalid="The card number is not valid. Check it and try again."' in page
