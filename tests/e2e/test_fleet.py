"""A business's administrator renews part of the fleet in a desktop Chromium, in both languages:
select lines, check them in the background, pay the batch once with a card, get the result file
and the one invoice."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from refill.customers.models import Customer
from refill.fleets.apply import bulk_job_apply
from refill.fleets.models import BulkJob, FleetMember
from refill.fleets.services import bulk_job_check
from refill.lines.models import Line
from refill.payments.models import Payment
from tests.factories import make_30day_plan, make_customer, make_line, make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "fleet-pass-2026-x"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_administrator_renews_part_of_the_fleet(live_server, desktop_page, shot, language):
    page = desktop_page
    market = make_market()
    plan = make_30day_plan(market)
    email = f"fleet-{language}@example.com"
    customer, admin = make_customer(email, language=language, password=PASSWORD)
    Customer.objects.filter(pk=customer.pk).update(kind="business", display_name="Acme")
    FleetMember.objects.create(user=admin, role="admin")
    lines = [make_line(customer, market, plan, msisdn=f"+1202555{n:04d}") for n in (301, 302, 303, 304)]
    Line.objects.filter(pk__in=[line.pk for line in lines]).update(
        status="active", period_end=timezone.now() + timedelta(days=3)
    )

    # given the administrator logs in, in their language
    page.goto(live_server.url + "/")
    if language == "zh-hans":
        page.get_by_test_id("lang-zh").click()
        page.wait_for_load_state()
    page.goto(live_server.url + "/fleet/lines/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action*='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/fleet/lines/$"))
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if language == "zh-hans" else "en")
    expect(page.get_by_test_id("fleet-line")).to_have_count(4)

    # when they select three lines and ask to renew them, the job checks them first
    for line in lines[:3]:
        page.locator(f"input[name=line][value='{line.pk}']").check()
    page.select_option("select[name=action]", "renew")
    page.get_by_test_id("bulk-submit").click()
    page.wait_for_url(re.compile(r".*/fleet/jobs/\d+/$"))
    expect(page.get_by_test_id("job-summary")).to_have_attribute("data-status", "checking")
    job = BulkJob.objects.get()
    bulk_job_check(job_id=job.pk)  # the worker's step
    page.reload()
    expect(page.get_by_test_id("job-summary")).to_have_attribute("data-status", "awaiting_payment")
    expect(page.get_by_test_id("job-total")).to_have_text(re.compile(r"\$75\.00"))
    shot(page, f"fleet-{language}-1-checked")

    # then they pay the batch once, by card
    page.locator("input[name=pay_with][value=card]").check()
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.fill("input[name=card_expiry]", "12/40")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/fleet/jobs/\d+/$"))
    assert Payment.objects.filter(method="card", status="succeeded").count() == 1
    bulk_job_apply(job_id=job.pk)  # the worker's step, enqueued by the payment
    page.reload()
    expect(page.get_by_test_id("job-summary")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("count-done")).to_have_text("3")
    shot(page, f"fleet-{language}-2-done")

    # and download the result file and open the one invoice
    with page.expect_download() as download:
        page.get_by_test_id("result-csv").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [row["status"] for row in rows] == ["done", "done", "done"]
    page.get_by_test_id("invoice").click()
    expect(page.get_by_test_id("invoice-line")).to_have_count(3)
    expect(page.get_by_test_id("invoice-total")).to_have_text(re.compile(r"\$75\.00"))
    shot(page, f"fleet-{language}-3-invoice")
    assert page.console_errors == []
