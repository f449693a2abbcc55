"""Saved cards in a phone-sized Chromium, in both languages: from Settings, save a card (a declined
one is not saved), save a second, make it the default, remove the first; each change is checked
after reloading the page, and the checkout offers the default card."""

import re

import pytest
from playwright.sync_api import expect

from refill.payments.models import PaymentMethod
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "cards-pass-2026"


def save_card(page, number: str, cvc: str = "123") -> None:
    page.fill("input[name=card_number]", number)
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", cvc)
    page.get_by_test_id("save-card").click()
    page.wait_for_load_state()


def method(page, last4: str):
    return page.locator(f"[data-testid=method][data-last4='{last4}']")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_add_make_default_and_remove_a_saved_card(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"cards-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550195")

    # given the customer, from Settings, on their saved cards: none yet
    log_in(page, base, user.email, PASSWORD)
    page.goto(base + "/preferences/")
    page.get_by_test_id("payment-methods-link").click()
    page.wait_for_url(re.compile(r".*/payment-methods/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("no-methods")).to_be_visible()
    shot(page, f"cards-{language}-1-none")

    # when the card cannot be right (a security code of two digits), it is not saved, and they are
    # told before anything is sent (the card form's own check, issue 26)
    save_card(page, "4242 4242 4242 4242", cvc="12")
    expect(page.get_by_test_id("card-error-summary")).to_be_focused()
    expect(page.get_by_test_id("card_cvc-error")).to_be_visible()
    expect(page.get_by_test_id("method")).to_have_count(0)
    assert not PaymentMethod.objects.filter(customer=customer).exists()

    # then they save a Visa: the first card is the default, and stays so after a reload
    save_card(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r".*/payment-methods/$"))
    page.reload()
    assert_language(page, language)
    expect(page.get_by_test_id("method")).to_have_count(1)
    expect(method(page, "4242").get_by_test_id("method-default")).to_be_visible()
    expect(method(page, "4242").get_by_test_id("make-default")).to_have_count(0)
    shot(page, f"cards-{language}-2-saved")

    # and a Mastercard, which they make the default
    save_card(page, "5555 5555 5555 4444")
    expect(page.get_by_test_id("method")).to_have_count(2)
    expect(method(page, "4444").get_by_test_id("method-default")).to_have_count(0)
    method(page, "4444").get_by_test_id("make-default").click()
    page.wait_for_load_state()
    page.reload()
    expect(method(page, "4444").get_by_test_id("method-default")).to_be_visible()
    expect(method(page, "4242").get_by_test_id("method-default")).to_have_count(0)
    shot(page, f"cards-{language}-3-default")
    visa, mastercard = PaymentMethod.objects.filter(customer=customer).order_by("pk")
    assert (visa.is_default, mastercard.is_default) == (False, True)

    # then they remove the Visa: gone after a reload, the Mastercard still the default
    method(page, "4242").get_by_test_id("remove-method").click()
    page.wait_for_load_state()
    page.reload()
    assert_language(page, language)
    expect(page.get_by_test_id("method")).to_have_count(1)
    expect(method(page, "4444").get_by_test_id("method-default")).to_be_visible()
    shot(page, f"cards-{language}-4-removed")
    visa.refresh_from_db()
    assert visa.removed_at is not None  # kept for the records, never offered again

    # and the checkout offers the default card, chosen, and not the removed one
    page.goto(f"{base}/lines/{line.pk}/renew/")
    expect(page.get_by_test_id(f"pay-saved-{mastercard.pk}")).to_be_visible()
    expect(page.get_by_test_id(f"pay-saved-{visa.pk}")).to_have_count(0)
    shot(page, f"cards-{language}-5-checkout")
    # The refused card was answered 4xx by design (the form with its error); nothing else failed.
    assert [error for error in page.console_errors if not re.search(r"status of 40\d", error)] == []
