"""Get a new number, from the demo data exactly as `make run` seeds it, in a phone-sized Chromium,
in both languages (issue 23, items 1, 2 and 17): choose a plan and a number, pay for it as a first
purchase (an activation: no renewal wording, no "keep my number" plan), install the eSIM from the
confirmation's main button; and, with no eSIM left, the page says so before anything is chosen."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from refill.catalog.models import Market, Plan
from refill.customers.models import User
from refill.demo.seed import DEMO_PASSWORDS, demo_seed
from refill.esim.models import EsimOrder, NewLineWait, Profile
from refill.esim.newlines import esim_waiting_lines_deliver
from refill.esim.services import esim_line_open
from refill.lines.models import Line
from refill.orders.models import Refund
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import renew
from tests.smdp import simulator_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Who tries it in each language, with the demo market, plan and number they choose.
JOURNEY = {
    "en": {"email": "demo@example.com", "market": "us", "plan": "us-30day", "number": "+12025550162"},
    "zh-hans": {"email": "li.wei@example.com", "market": "cn", "plan": "cn-30day", "number": "+8613800138102"},
}


def run_worker():
    """What the demo's worker does with the tasks waiting."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


@pytest.fixture
def demo(live_server, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        assert demo_seed()
        run_worker()  # the tasks the seeding left, as `make run` runs them
        assert not DBTaskResult.objects.failed().exists()
        yield simulator


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_get_a_new_number_from_the_demo(live_server, demo, phone_page, shot, language):
    page, journey, base = phone_page, JOURNEY[language], live_server.url
    choose_language(page, base, language)
    log_in(page, base, journey["email"], DEMO_PASSWORDS[journey["email"]])
    assert_language(page, language)

    # the new-number page: stock is there, so the choices are offered
    page.get_by_test_id("line-new").click()
    page.wait_for_url(re.compile(r".*/lines/new/.*"))
    expect(page.get_by_test_id("esim-out-of-stock")).to_have_count(0)
    if page.get_by_test_id("market").count():
        page.get_by_test_id("market").select_option(journey["market"])
        page.locator("form[method=get] button[type=submit]").click()
        page.wait_for_load_state()
    page.get_by_test_id(f"new-plan-{journey['plan']}").check()
    page.get_by_test_id(f"number-{journey['number']}").check()
    shot(page, f"new-number-{language}-1-choose")
    page.get_by_test_id("line-new-continue").click()

    # the pay page is an activation: no renewal heading, no "keep my number" plan
    page.wait_for_url(re.compile(r".*/lines/\d+/renew/\?plan=.*"))
    assert_language(page, language)
    expect(page.get_by_test_id("activation-heading")).to_be_visible()
    expect(page.get_by_test_id(f"plan-{journey['plan']}")).to_be_checked()
    expect(page.locator("[data-testid$='-keep']")).to_have_count(0)
    # nothing runs off a phone's screen (the demo's automatic offer once pushed the pay button off it)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    wallet = page.get_by_test_id("pay-wallet")
    if not (wallet.count() and wallet.is_checked()):  # the demo wallet pays it, else a card
        page.get_by_test_id("pay-card").check()
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.fill("input[name=card_expiry]", "12/39")
        page.fill("input[name=card_cvc]", "123")
    shot(page, f"new-number-{language}-2-pay")
    page.get_by_test_id("pay").click()

    # the confirmation welcomes the new number; installing its eSIM is the main action
    page.wait_for_url(re.compile(r".*/orders/\d+/confirmation/"))
    assert_language(page, language)
    expect(page.get_by_test_id("activation-confirmed")).to_be_visible()
    install = page.get_by_test_id("install-esim")
    expect(install).to_be_visible()
    assert "button" in install.get_attribute("class")
    box = install.bounding_box()
    assert box["width"] > 300 and box["height"] >= 40  # a full-width button, not a link in a paragraph
    shot(page, f"new-number-{language}-3-confirmed")

    # the eSIM is prepared in the background and the eSIM page shows its QR code
    line = Line.objects.get(msisdn=journey["number"])
    assert line.status == "active"
    run_worker()
    assert not DBTaskResult.objects.failed().exists()
    order = EsimOrder.objects.get(line=line)
    assert order.status == "released" and Profile.objects.get(line=line).iccid == line.iccid
    install.click()
    page.wait_for_url(re.compile(rf".*/lines/{line.pk}/esim/"))
    expect(page.get_by_test_id("activation-code")).to_have_value(str(order.activation_code))
    expect(page.get_by_test_id("esim-qr").locator("svg")).to_be_visible()
    shot(page, f"new-number-{language}-4-install")

    # with no eSIM left, the page says so before anything is chosen
    Profile.objects.filter(line__isnull=True).update(smdp_state="unavailable")
    EsimOrder.objects.filter(reason="pool", line__isnull=True).update(status="cancelled")
    page.goto(base + "/lines/new/")
    assert_language(page, language)
    expect(page.get_by_test_id("esim-out-of-stock")).to_be_visible()
    expect(page.get_by_test_id("line-new-continue")).to_have_count(0)
    shot(page, f"new-number-{language}-5-out-of-stock")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_paid_new_number_without_an_esim_waits_then_may_be_refunded(live_server, demo, phone_page, shot, language):
    page, journey, base = phone_page, JOURNEY[language], live_server.url
    # a new number opened, whose held profile was then lost (refused at the SM-DP+), with no other
    # eSIM left: paid for all the same
    owner = User.objects.get(email=journey["email"]).customer
    line = esim_line_open(customer=owner, market=Market.objects.get(code=journey["market"]),
                          plan=Plan.objects.get(code=journey["plan"]), msisdn=journey["number"])  # fmt: skip
    Profile.objects.filter(line=line).update(line=None, smdp_state="unavailable")
    Profile.objects.filter(line__isnull=True).update(smdp_state="unavailable")
    EsimOrder.objects.filter(reason="pool", line__isnull=True).update(status="cancelled")
    order, _ = renew(line, line.plan)
    run_worker()
    assert not DBTaskResult.objects.failed().exists()
    wait = NewLineWait.objects.get(line=line)

    choose_language(page, base, language)
    log_in(page, base, journey["email"], DEMO_PASSWORDS[journey["email"]])
    expect(page.get_by_test_id("esim-waiting-card")).to_be_visible()
    shot(page, f"new-number-waiting-{language}-1-card")
    page.goto(f"{base}/orders/{order.pk}/confirmation/")
    expect(page.get_by_test_id("esim-waiting")).to_be_visible()
    expect(page.get_by_test_id("install-esim")).to_have_count(0)
    shot(page, f"new-number-waiting-{language}-2-confirmation")
    page.goto(f"{base}/lines/{line.pk}/esim/")
    expect(page.get_by_test_id("esim-refund-from")).to_be_visible()
    expect(page.get_by_test_id("esim-refund")).to_have_count(0)
    shot(page, f"new-number-waiting-{language}-3-esim")

    # two days on, still none: the customer takes the refund offered
    with time_machine.travel(wait.since + timedelta(hours=48, minutes=1), tick=False):
        esim_waiting_lines_deliver()
        log_in(page, base, journey["email"], DEMO_PASSWORDS[journey["email"]], next_url=f"/lines/{line.pk}/esim/")
        assert_language(page, language)
        expect(page.get_by_test_id("esim-refund")).to_be_visible()
        shot(page, f"new-number-waiting-{language}-4-refund-offered")
        page.get_by_test_id("esim-refund").click()
        page.wait_for_url(re.compile(rf".*/lines/{line.pk}/esim/$"))
        expect(page.get_by_test_id("esim-refunded")).to_be_visible()
        shot(page, f"new-number-waiting-{language}-5-refunded")
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount) == ("succeeded", order.total)
