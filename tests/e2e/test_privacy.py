"""A customer downloads their data and deletes their account, on a phone, in both languages: the
file is theirs, deletion is refused while a line still has paid service, and once it has ended the
account is erased, the customer is signed out and can no longer log in."""

import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.customers.models import User
from refill.lines.models import Line
from refill.subscriptions.models import Period
from tests.factories import make_customer, make_line, make_market, make_plan, renew

from .helpers import assert_language, choose_language, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "privacy-pass-2026"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_download_my_data_then_delete_my_account(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00")
    email = f"privacy-{language}@example.com"
    customer, user = make_customer(email, language=language, password=PASSWORD)
    line = make_line(customer, market, plan, msisdn="+12025550188")
    renew(line, plan)

    # given the customer is logged in, in their language, on the privacy page
    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD)
    page.goto(base + "/preferences/")
    page.get_by_test_id("privacy-link").click()
    assert_language(page, language)

    # when they download their data, the file is theirs
    with page.expect_download() as download:
        page.get_by_test_id("privacy-export").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert [item["msisdn"] for item in data["lines"]] == ["+12025550188"]
    assert [login["email"] for login in data["logins"]] == [email]

    # and deletion is refused while the line's paid period runs
    expect(page.get_by_test_id("privacy-blockers")).to_be_visible()
    expect(page.get_by_test_id("privacy-erase")).to_have_count(0)
    shot(page, f"privacy-{language}-1-refused")

    # then once the service has ended they delete the account with their password
    Line.objects.filter(pk=line.pk).update(status="grace")
    Period.objects.filter(line=line).update(end=timezone.now())
    page.reload()
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=confirm]")
    shot(page, f"privacy-{language}-2-confirm")
    page.get_by_test_id("privacy-erase").click()
    page.wait_for_url(re.compile(r".*/$"))
    user.refresh_from_db()
    assert not user.is_active and user.email.endswith("@erased.invalid")
    customer.refresh_from_db()
    assert customer.display_name != f"privacy-{language}"
    # and can no longer log in
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action*='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
    assert not User.objects.filter(email=email).exists()
    assert page.console_errors == []
