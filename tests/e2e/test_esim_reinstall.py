"""New phone -> re-install the eSIM, in a phone-sized Chromium, in both languages: the customer
gets a new activation code, the new phone downloads it from the SM-DP+ simulator, and the page
follows the installation by itself."""

import pytest
from playwright.sync_api import expect

from refill.esim import services
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder
from tests.factories import esim_batch_iccid, make_customer, make_line, make_market, make_plan
from tests.smdp import simulator_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD_PHONE = "89049032007008882600000000000020"
NEW_PHONE = "89049032007008882600000000000117"
TEXT = {
    "en": {"installed": "Installed on your phone", "ready": "Ready to install", "copied": "Copied",
           "subject": "Install your eSIM"},
    "zh-hans": {"installed": "已安装到您的手机", "ready": "可以安装了", "copied": "已复制", "subject": "eSIM"},
}  # fmt: skip


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(live_server, settings, "--accept-unknown") as simulator:
        yield simulator


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_new_phone_reinstall(live_server, sim, phone_page, shot, language):
    text, page = TEXT[language], phone_page
    iccid = esim_batch_iccid(4, 1 if language == "en" else 2)
    inventory_import(
        file_name=f"{language}.csv",
        content=f"iccid,imsi,profile_type\n{iccid},23415000000900{len(language)},consumer\n".encode(),
    )
    market = make_market()
    email, password = f"esim-{language}@example.com", "esim-pass-2026"
    customer, user = make_customer(email=email, password=password, language=language)
    line = make_line(customer, market, make_plan(market), msisdn="+12025550177", sim_type="esim")
    type(line).objects.filter(pk=line.pk).update(status="active")
    line.refresh_from_db()
    # the eSIM is on the customer's old phone
    first = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": first.matching_id, "eid": OLD_PHONE})

    # given the customer logged in on their new phone
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/lines/")
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if language == "zh-hans" else "en")

    # when they open the line's eSIM page: it is installed (on the old phone)
    page.get_by_test_id("esim").click()
    expect(page.get_by_test_id("esim-status")).to_contain_text(text["installed"])
    shot(page, f"esim-{language}-1-installed")

    # and ask for a new activation code
    page.get_by_test_id("reinstall").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("esim-status")).to_contain_text(text["ready"])
    code = page.get_by_test_id("activation-code").input_value()
    second = EsimOrder.objects.get(line=line, status="released")
    assert code == str(second.activation_code) and code.startswith("LPA:1$smdp.refill.test$")
    assert page.get_by_test_id("esim-qr").locator("svg").is_visible()
    assert "carddata=LPA%3A1%24" in page.get_by_test_id("ios-install").get_attribute("href")
    page.get_by_test_id("copy-code").click()
    expect(page.get_by_test_id("copy-code")).to_have_text(text["copied"])
    shot(page, f"esim-{language}-2-new-code")

    # then the new phone downloads and installs it, and the page follows by itself
    sim.post("/sim/device/download", {"matchingId": code.split("$")[2], "eid": NEW_PHONE})
    expect(page.locator("[data-testid=esim-status][data-status=installed]")).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("esim-status")).to_contain_text(text["installed"])
    expect(page.get_by_test_id("activation-code")).to_have_count(0)  # no code left to show
    shot(page, f"esim-{language}-3-new-phone-installed")
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.status, second.eid, first.status) == ("installed", NEW_PHONE, "installed")
    assert second.profile.downloads == 2
    assert not page.console_errors
