"""The card form in a phone-sized Chromium, in both languages (issue 26): a number with a wrong check
digit is caught before anything is sent (the error by the field and in a summary at the top, which
takes the focus); a card the bank declines comes back with the number still typed; a good card then
pays."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.orders.models import Order
from refill.subscriptions.models import Period
from tests.e2e.helpers import assert_language, fill_card, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "card-form-pass-2026"
SHOTS = "/work/helpers/shots/h23"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_form_checks_before_sending_and_keeps_the_number(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"cardform-{language}@example.com", language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550177")
    renew(line, plan, now=timezone.now() - timedelta(days=10))
    periods = Period.objects.filter(line=line).count()
    orders = Order.objects.filter(customer=customer).count()

    # given the customer on the renew page, paying with a new card
    log_in(page, base, user.email, PASSWORD, next_url=f"/lines/{line.pk}/renew/")
    assert_language(page, language)
    page.get_by_test_id("pay-card").check()
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    # when they type a number with a wrong check digit and pay
    fill_card(page, "4242 4242 4242 4241")
    page.get_by_test_id("pay").click()

    # then the browser says so by the field and in the summary, which has the focus; nothing is sent
    summary, error = page.get_by_test_id("card-error-summary"), page.get_by_test_id("card_number-error")
    expect(summary).to_be_focused()
    expect(error).to_be_visible()
    expect(page.get_by_test_id("card-number")).to_have_attribute("aria-invalid", "true")
    assert error.inner_text() in summary.inner_text()  # the same words in both places
    expect(page.get_by_test_id("card_expiry-error")).to_be_hidden()
    top = page.evaluate("document.querySelector('[data-testid=card-error-summary]').getBoundingClientRect().top")
    form_top = page.evaluate("document.getElementById('renew-form').getBoundingClientRect().top")
    assert 0 <= top - form_top < 40  # at the top of the form
    assert posts == [] and Order.objects.filter(customer=customer).count() == orders
    page.screenshot(path=f"{SHOTS}/card-form-{language}-1-luhn.png")
    shot(page, f"card-form-{language}-1-luhn")

    # when they correct it to a card the bank declines
    page.get_by_test_id("card-number").fill("4000 0000 0000 9995")
    page.get_by_test_id("pay").click()
    page.wait_for_load_state()

    # then the decline is explained and the number, expiry and way to pay are still there
    expect(page.get_by_test_id("payment-error")).to_be_visible()
    expect(page.get_by_test_id("card-number")).to_have_value("4000 0000 0000 9995")
    expect(page.get_by_test_id("card-expiry")).to_have_value("12/39")
    expect(page.get_by_test_id("card-cvc")).to_have_value("")
    expect(page.get_by_test_id("card_cvc-help")).to_be_visible()
    expect(page.get_by_test_id("pay-card")).to_be_checked()
    expect(page.get_by_test_id("card-error-summary")).to_be_hidden()
    assert Period.objects.filter(line=line).count() == periods
    page.screenshot(path=f"{SHOTS}/card-form-{language}-2-declined.png", full_page=True)

    # and a second try with a good card pays
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    assert Period.objects.filter(line=line).count() == periods + 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_past_expiry_typed_as_four_digits_is_caught_and_a_good_one_pays(live_server, phone_page, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"expiry-{language}@example.com", language=language, password=PASSWORD)
    make_line(customer, market, plan, msisdn="+12025550178")
    log_in(page, base, user.email, PASSWORD, next_url="/wallet/")
    assert_language(page, language)
    page.locator("input[name=amount]").fill("20")
    page.get_by_test_id("pay-card").check()
    page.get_by_test_id("card-number").fill("4242-4242-4242-4242")
    page.get_by_test_id("card-expiry").fill("0120")
    page.get_by_test_id("card-cvc").fill("12")
    page.get_by_test_id("topup").click()
    expect(page.get_by_test_id("card-error-summary")).to_be_focused()
    expect(page.get_by_test_id("card_expiry-error")).to_be_visible()
    expect(page.get_by_test_id("card_cvc-error")).to_be_visible()
    expect(page.get_by_test_id("card_number-error")).to_be_hidden()
    page.screenshot(path=f"{SHOTS}/card-form-{language}-3-wallet-expiry.png", full_page=True)
    assert not Order.objects.filter(customer=customer).exists()
    # the expiry as people write it: 1239, 12 / 2039
    page.get_by_test_id("card-expiry").fill("12 / 2039")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("topup").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert Order.objects.get(customer=customer).status == Order.Status.PAID
