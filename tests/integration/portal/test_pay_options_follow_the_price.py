"""The ways to pay follow the price (issue 26): on the renew and add-on pages, choosing another
plan, number of periods or pass re-prices the panel *and* the list of ways to pay, so a wallet
that now covers the total is offered and chosen instead of staying disabled with a stale reason.
With script the list comes back out of band with the panel (htmx), only when the change came from
the plan side (the element the customer just used is never replaced); without script "Update
price" gives the same list."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db

GB = 1024


def give_wallet(customer, amount: str) -> None:
    _, pins = voucher_batch_generate(count=1, face_value=amount, currency="USD")
    voucher_redeem(pin=pins[0][1], customer=customer)


def pay_fieldset(html: str) -> str | None:
    """The ways-to-pay fieldset, when the answer carries one."""
    found = re.search(r'<fieldset class="pay-with".*?</fieldset>', html, re.S)
    return found.group(0) if found else None


def wallet_radio(html: str) -> str:
    return re.search(r'<input type="radio" name="pay_with" value="wallet"[^>]*>', html).group(0)


def checked(html: str) -> str:
    return re.search(r'name="pay_with" value="([^"]+)" data-testid="[^"]+" checked', html).group(1)


def htmx_get(client, url, params, trigger):
    return client.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER=trigger).content.decode()


@pytest.fixture
def us(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    make_plan(market, "us-week", price="7.00", validity_count=7, name_en="7-Day Plan", voice_minutes=None, sms=None)
    make_plan(market, "us-data-5gb", kind="addon", price="10.00", data_mb=5 * GB, voice_minutes=0, sms=0,
              name_en="5 GB Data Booster")  # fmt: skip
    make_plan(market, "us-data-1gb", kind="addon", price="3.00", data_mb=GB, voice_minutes=0, sms=0,
              name_en="1 GB Data Booster")  # fmt: skip
    customer, user = make_customer("payer@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    renew(line, plan, now=timezone.now() - timedelta(days=10))
    login(client, user)
    return customer, line


# --- the renew page --------------------------------------------------------------------------------


def test_renew_a_cheaper_plan_makes_the_wallet_usable_in_the_same_answer(client, us):
    customer, line = us
    give_wallet(customer, "10.00")
    page = client.get(reverse("portal:renew", args=[line.pk]), {"plan": "us-30day"}).content.decode()
    assert "disabled" in wallet_radio(page) and checked(page) == "wallet_card"
    # the plans and the ways to pay are named, so the answer knows which one asked
    assert re.search(r'<fieldset class="plans" id="checkout-plans"', page)
    assert re.search(r'<fieldset class="pay-with" id="pay-with"', page)

    url = reverse("portal:renew_quote", args=[line.pk])
    answer = htmx_get(client, url, {"plan": "us-week", "periods": 1, "pay_with": "wallet_card"}, "checkout-plans")
    assert 'data-testid="total">$7.00' in answer
    ways = pay_fieldset(answer)
    assert ways is not None and 'hx-swap-oob="true"' in ways
    assert "disabled" not in wallet_radio(ways) and 'data-testid="why-pay-wallet"' not in ways
    assert 'value="wallet_card"' not in ways  # nothing left for a card to pay
    assert checked(ways) == "wallet"  # "wallet first" is gone: the rule's first usable way
    assert 'data-testid="split-wallet"' not in answer


def test_renew_more_periods_disables_the_wallet_again_and_keeps_a_usable_choice(client, us):
    customer, line = us
    give_wallet(customer, "10.00")
    url = reverse("portal:renew_quote", args=[line.pk])
    answer = htmx_get(client, url, {"plan": "us-week", "periods": 2, "pay_with": "card"}, "checkout-plans")
    ways = pay_fieldset(answer)
    assert "disabled" in wallet_radio(ways)
    why = re.search(r'data-testid="why-pay-wallet">([^<]*)<', ways).group(1)
    assert "$10.00" in why and "$14.00" in why
    assert checked(ways) == "card"  # still usable: the customer's choice is kept


def test_renew_a_change_of_way_to_pay_does_not_replace_the_ways(client, us):
    customer, line = us
    give_wallet(customer, "10.00")
    url = reverse("portal:renew_quote", args=[line.pk])
    answer = htmx_get(client, url, {"plan": "us-30day", "periods": 1, "pay_with": "wallet_card"}, "pay-with")
    assert pay_fieldset(answer) is None  # the radio just used keeps its focus
    assert 'data-testid="split-wallet"' in answer


def test_renew_update_price_without_script_gives_the_same_ways(client, us):
    customer, line = us
    give_wallet(customer, "10.00")
    page = client.get(reverse("portal:renew", args=[line.pk]), {"plan": "us-30day"}).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    form = {"plan": "us-week", "periods": "1", "idempotency_key": key, "pay_with": "wallet_card", "action": "quote"}
    answer = client.post(reverse("portal:renew", args=[line.pk]), form).content.decode()
    assert "disabled" not in wallet_radio(answer) and 'data-testid="why-pay-wallet"' not in answer
    assert checked(answer) == "wallet"


# --- the add-on page -------------------------------------------------------------------------------


def test_addon_a_cheaper_pass_makes_the_wallet_usable_in_the_same_answer(client, us):
    customer, line = us
    give_wallet(customer, "4.00")
    page = client.get(reverse("portal:addons", args=[line.pk]), {"plan": "us-data-5gb"}).content.decode()
    assert "disabled" in wallet_radio(page) and checked(page) == "wallet_card"
    assert re.search(r'<fieldset class="plans" id="checkout-plans"', page)
    assert re.search(r'<fieldset class="pay-with" id="pay-with"', page)

    url = reverse("portal:addon_quote", args=[line.pk])
    answer = htmx_get(client, url, {"plan": "us-data-1gb", "pay_with": "wallet_card"}, "checkout-plans")
    assert 'data-testid="total">$3.00' in answer
    ways = pay_fieldset(answer)
    assert ways is not None and 'hx-swap-oob="true"' in ways
    assert "disabled" not in wallet_radio(ways) and 'data-testid="why-pay-wallet"' not in ways
    assert checked(ways) == "wallet"
    # the list re-rendered still re-prices the panel when a way is chosen
    assert f'hx-get="{url}"' in ways


def test_addon_a_dearer_pass_keeps_a_usable_choice(client, us):
    customer, line = us
    give_wallet(customer, "4.00")
    url = reverse("portal:addon_quote", args=[line.pk])
    answer = htmx_get(client, url, {"plan": "us-data-5gb", "pay_with": "card"}, "checkout-plans")
    ways = pay_fieldset(answer)
    assert "disabled" in wallet_radio(ways) and 'data-testid="why-pay-wallet"' in ways
    assert checked(ways) == "card"


def test_addon_a_change_of_way_to_pay_does_not_replace_the_ways(client, us):
    customer, line = us
    give_wallet(customer, "4.00")
    url = reverse("portal:addon_quote", args=[line.pk])
    answer = htmx_get(client, url, {"plan": "us-data-5gb", "pay_with": "wallet_card"}, "pay-with")
    assert pay_fieldset(answer) is None
    assert 'data-testid="split-wallet"' in answer


def test_addon_update_price_without_script_gives_the_same_ways(client, us):
    customer, line = us
    give_wallet(customer, "4.00")
    page = client.get(reverse("portal:addons", args=[line.pk]), {"plan": "us-data-5gb"}).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    form = {"plan": "us-data-1gb", "idempotency_key": key, "pay_with": "wallet_card", "action": "quote"}
    answer = client.post(reverse("portal:addons", args=[line.pk]), form).content.decode()
    assert "disabled" not in wallet_radio(answer) and 'data-testid="why-pay-wallet"' not in answer
    assert checked(answer) == "wallet"
