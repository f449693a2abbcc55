"""Topping the wallet up by card in a phone-sized Chromium, in both languages: a declined card
changes nothing and says so; a good one lands on the confirmation with the new balance, and the
wallet's statement shows the top-up after a reload."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "topup-pass-2026"


def top_up(page, amount: str, number: str) -> None:
    page.fill("input[name=amount]", amount)
    page.get_by_test_id("pay-card").check()  # a new card (a Chinese reader is offered 支付宝 first)
    page.fill("input[name=card_number]", number)
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("topup").click()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_top_up_the_wallet_by_card(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, user = make_customer(f"topup-{language}@example.com", language=language, password=PASSWORD)
    make_line(customer, market, plan, msisdn="+12025550193")

    # given the customer on their wallet, empty, with the top-up form in their own currency
    log_in(page, base, user.email, PASSWORD)
    page.goto(base + "/wallet/")
    assert_language(page, language)
    expect(page.get_by_test_id("wallet-balance-USD")).to_contain_text("0.00")
    expect(page.locator("select[name=market]")).to_have_value("us")
    shot(page, f"topup-{language}-1-wallet")

    # when their card is declined, nothing is charged and the wallet is unchanged
    top_up(page, "40", "4000 0000 0000 9995")
    expect(page.get_by_test_id("topup-error")).to_be_visible()
    assert_language(page, language)
    shot(page, f"topup-{language}-2-declined")
    assert wallet_balance(customer, "USD") == Decimal("0.00")
    assert not Order.objects.filter(customer=customer, status=Order.Status.PAID).exists()

    # then with a good card the top-up is confirmed with the new balance
    top_up(page, "40", "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/$"))
    assert_language(page, language)
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    expect(page.get_by_test_id("wallet-balance")).to_contain_text("40.00")
    expect(page.get_by_test_id("amount")).to_contain_text("40.00")
    shot(page, f"topup-{language}-3-confirmed")
    order = Order.objects.get(customer=customer, status=Order.Status.PAID)
    assert list(order.payments.filter(status=Payment.Status.SUCCEEDED).values_list("method", "amount")) == [
        ("card", Decimal("40.00"))
    ]
    assert wallet_balance(customer, "USD") == Decimal("40.00")

    # and the wallet, loaded again, holds it, with one line in its statement
    page.goto(base + "/wallet/")
    page.reload()
    assert_language(page, language)
    expect(page.get_by_test_id("wallet-balance-USD")).to_contain_text("40.00")
    expect(page.get_by_test_id("statement-row")).to_have_count(1)
    expect(page.get_by_test_id("statement-row")).to_contain_text("40.00")
    shot(page, f"topup-{language}-4-statement")
    # The declined card was answered 402 by design (the form with its error); nothing else failed.
    assert [error for error in page.console_errors if "status of 402" not in error] == []
