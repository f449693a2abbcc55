"""A declined payment -> the linked help article -> a support request -> a staff reply -> the
customer reads it, in both languages: the customer on a phone-sized Chromium, a support staff
member (password and TOTP code) on a desktop one."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from refill.customers.models import User
from refill.help.demo import articles_seed
from refill.subscriptions.models import Period
from refill.support.models import Message, Ticket
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "support-pass-2026-x"
DECLINED_CARD = "4000 0000 0000 9995"  # the sandbox gateway refuses it: not enough money
# The emails' subjects in each language: "We received your request" as translated, and for the
# reply ("We answered your request") English words or Chinese characters.
SUBJECT_WORDS = {
    "en": {"created": "We received your request", "reply": r"We answered your request"},
    "zh-hans": {"created": "我们已收到您的请求", "reply": r"[\u4e00-\u9fff]"},
}
REPLY_TEXT = "We checked with the bank: please try the card again or pay from your wallet."
NOTE_TEXT = "Internal: the issuer refused for insufficient funds, nothing for us to fix."


def not_the_402(errors: list[str]) -> list[str]:
    """Console errors but the decline page's HTTP 402, which Chromium logs and is expected."""
    return [e for e in errors if "status of 402" not in e]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_declined_payment_help_support_reply(live_server, phone_page, desktop_page, shot, language, mailoutbox):
    base, words = live_server.url, SUBJECT_WORDS[language]
    market = make_market()
    plan = make_30day_plan(market)
    customer_email = f"help-{language}@example.com"
    customer, _ = make_customer(customer_email, language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550177")
    articles_seed()
    staff_email = f"support-{language}@example.com"
    staff = User.objects.create_user(staff_email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="support"))
    EmailAddress.objects.create(user=staff, email=staff_email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    # given the customer, in their language, on the renew page of their line
    page = phone_page
    choose_language(page, base, language)
    log_in(page, base, customer_email, PASSWORD)
    assert_language(page, language)
    page.goto(f"{base}/lines/{line.pk}/renew/")
    page.get_by_test_id("plan-us-30day").check()

    # when they pay with a card the bank refuses
    page.get_by_test_id("pay-card").check()  # a new card (a Chinese reader is offered 支付宝 first)
    page.fill("input[name=card_number]", DECLINED_CARD)
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("pay").click()
    page.wait_for_load_state()

    # then the error box links to the help article about refused payments
    error = page.get_by_test_id("payment-error")
    expect(error).to_be_visible()
    assert not Period.objects.filter(line=line).exists()
    shot(page, f"help-support-{language}-1-declined")
    error.get_by_test_id("decline-help").click()
    page.wait_for_url(re.compile(r".*/help/payment-declined/$"))
    assert_language(page, language)
    shot(page, f"help-support-{language}-2-article")

    # when they contact support from the article, the category is already "payment refused"
    page.get_by_test_id("contact-support").click()
    page.wait_for_url(re.compile(r".*/support/new/\?topic=payment-declined$"))
    assert_language(page, language)
    expect(page.locator("select[name=category]")).to_have_value("payment_refused")
    page.select_option("select[name=line]", str(line.pk))
    page.fill("input[name=subject]", f"Card refused ({language})")
    page.fill("textarea[name=body]", "My card was refused while renewing. What can I do?")
    shot(page, f"help-support-{language}-3-contact")
    page.get_by_test_id("contact-submit").click()
    page.wait_for_url(re.compile(r".*/support/new/sent/$"))

    # then they see the reference, and get it by email in their language
    reference = page.get_by_test_id("ticket-reference").inner_text().strip()
    ticket = Ticket.objects.get(reference=reference)
    assert (ticket.customer_id, ticket.line_id) == (customer.pk, line.pk)
    assert (ticket.category, ticket.topic) == ("payment_refused", "payment-declined")
    shot(page, f"help-support-{language}-4-sent")
    (created_mail,) = [m for m in mailoutbox if customer_email in m.to and reference in m.subject]
    assert words["created"] in created_mail.subject, created_mail.subject

    # when a support staff member logs in with a TOTP code and opens the request from the queue
    staff_page = desktop_page
    choose_language(staff_page, base, language)
    log_in(staff_page, base, staff_email, PASSWORD, next_url="/backoffice/support/", secret=secret)
    assert_language(staff_page, language)
    row = staff_page.get_by_test_id(f"queue-{reference}")
    expect(row).to_be_visible()
    shot(staff_page, f"help-support-{language}-5-queue")
    row.get_by_role("link", name=reference).click()
    staff_page.wait_for_url(re.compile(rf".*/backoffice/support/{reference}/$"))
    expect(staff_page.get_by_test_id("ticket-reference")).to_have_text(reference)

    # and assigns it to themselves, writes an internal note and replies
    staff_page.get_by_test_id("assign-me").click()
    expect(staff_page.get_by_test_id("ticket-assignee")).not_to_have_text("–")
    note_form = staff_page.get_by_test_id("note-form")
    note_form.locator("textarea").fill(NOTE_TEXT)
    note_form.locator("button[type=submit]").click()
    expect(staff_page.get_by_test_id("message-note")).to_contain_text(NOTE_TEXT)
    reply_form = staff_page.get_by_test_id("reply-form")
    reply_form.locator("textarea").fill(REPLY_TEXT)
    reply_form.locator("button[type=submit]").click()
    expect(staff_page.get_by_test_id("message-reply")).to_contain_text(REPLY_TEXT)
    shot(staff_page, f"help-support-{language}-6-replied")
    ticket.refresh_from_db()
    assert ticket.assignee_id == staff.pk
    assert set(ticket.messages.values_list("kind", flat=True)) == {"customer", "note", "reply"}
    assert staff_page.console_errors == []

    # then the customer sees the reply on their request, and not the note
    page.goto(base + "/support/")
    assert_language(page, language)
    page.get_by_test_id(f"ticket-{reference}").get_by_role("link").click()
    page.wait_for_url(re.compile(rf".*/support/{reference}/$"))
    expect(page.get_by_test_id("message-reply")).to_contain_text(REPLY_TEXT)
    expect(page.get_by_test_id("message-note")).to_have_count(0)
    assert NOTE_TEXT not in page.content()
    shot(page, f"help-support-{language}-7-reply-seen")

    # and the reply came by email, in their language, with the staff text and without the note
    (reply_mail,) = [
        m for m in mailoutbox if customer_email in m.to and reference in m.subject and m is not created_mail
    ]
    assert re.search(words["reply"], reply_mail.subject), reply_mail.subject
    assert REPLY_TEXT in reply_mail.body and NOTE_TEXT not in reply_mail.body
    assert Message.objects.filter(ticket=ticket, kind="note").count() == 1
    assert not_the_402(page.console_errors) == []
