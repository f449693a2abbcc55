"""A refund seen by the customer (issue 23, item 3), from the demo data exactly as `make run` seeds
it, in both languages: a finance staff member (password and TOTP, desktop) refunds a customer's
order in the back office with a reason from the list and a note; the customer, on a phone, sees
the order as refunded with the amount and date, and downloads the credit note."""

import re

import pytest
from playwright.sync_api import expect

from refill.customers.models import User
from refill.demo.seed import DEMO_PASSWORDS, DEMO_TOTP_SECRET, demo_seed
from refill.orders.models import CreditNote, Order
from tests.e2e.helpers import assert_language, choose_language, log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The demo customer who reads each language, and the order of theirs that is refunded.
CUSTOMERS = {
    "en": ("demo@example.com", "demo-esim-1"),
    "zh-hans": ("li.wei@example.com", "demo-li-1"),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refund_is_seen_by_the_customer_with_its_credit_note(live_server, desktop_page, phone_page, shot, language):
    demo_seed()
    base = live_server.url
    email, key = CUSTOMERS[language]
    customer = User.objects.get(email=email).customer
    order = Order.objects.get(customer=customer, idempotency_key=key)
    total = f"{order.total:.2f}"

    # given finance staff log in (password, then TOTP) in the customer's language
    staff = desktop_page
    choose_language(staff, base, language)
    customer_page = f"/backoffice/customers/{customer.pk}/"
    log_in(
        staff,
        base,
        "finance@example.com",
        DEMO_PASSWORDS["finance@example.com"],
        next_url=customer_page,
        secret=DEMO_TOTP_SECRET,
    )
    assert_language(staff, language)

    # when they refund the whole order to the card it was paid with, with a reason and a note
    staff.get_by_test_id("orders").locator("summary").click()  # the orders, closed until asked for
    staff.get_by_test_id(f"refund-{order.pk}").click()
    staff.wait_for_url(re.compile(rf".*/backoffice/orders/{order.pk}/refund/$"))
    staff.fill("input[name=amount]", total)
    staff.select_option("select[name=destination]", "original")
    staff.select_option("select[name=reason_code]", "wrong_plan")
    staff.fill("input[name=note]", "Sorry, we sold you the wrong plan.")
    shot(staff, f"refund-seen-{language}-1-staff-form")
    staff.get_by_test_id("refund-submit").click()
    staff.wait_for_url(re.compile(rf".*/backoffice/orders/{order.pk}/refund/$"))
    expect(staff.get_by_test_id("refund-row")).to_have_attribute("data-status", "succeeded")
    note = CreditNote.objects.get(refund__order=order)
    expect(staff.get_by_test_id("refund-credit-note")).to_have_text(note.display_number)
    assert staff.console_errors == []
    log_out(staff)

    # then the customer, on a phone, sees the order refunded with its amount and date
    phone = phone_page
    choose_language(phone, base, language)
    log_in(phone, base, email, DEMO_PASSWORDS[email], next_url="/orders/")
    assert_language(phone, language)
    row = phone.locator(f"li[data-testid=order]:has(a[href='/orders/{order.pk}/'])")
    expect(row).to_have_attribute("data-state", "refunded")
    expect(row.get_by_test_id("order-state")).to_be_visible()
    expect(row.get_by_test_id("order-refunded")).to_contain_text(total)
    shot(phone, f"refund-seen-{language}-2-orders")

    # and opens it: the refund line names the credit note, which downloads as a PDF
    row.locator("a").first.click()
    phone.wait_for_url(re.compile(rf".*/orders/{order.pk}/$"))
    expect(phone.get_by_test_id("refund-line")).to_contain_text(total)
    link = phone.get_by_test_id("credit-note-pdf")
    expect(link).to_contain_text(note.display_number)
    shot(phone, f"refund-seen-{language}-3-order")
    pdf = phone.request.get(base + link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF") and note.display_number in pdf.headers["content-disposition"]
    assert phone.console_errors == []
