"""eSIM orders, re-issues, the ready pool and the SM-DP+'s notifications, against the simulator in
its own process calling back into a live Refill."""

import logging

import pytest

from refill.domain.activation import parse_activation_code
from refill.esim import services, smdp_notifications
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder, Profile, ProfileEvent
from refill.integrations.esim import es2plus
from tests.factories import esim_batch_iccid, make_customer, make_line, make_market, make_plan
from tests.smdp import simulator_for

pytestmark = pytest.mark.django_db(transaction=True)

EID = "89049032007008882600000000000020"
NEW_PHONE = "89049032007008882600000000000117"
TOKEN = "callback-token-for-tests"


def iccid(n: int) -> str:
    return esim_batch_iccid(2, n)


@pytest.fixture
def sim(live_server, settings):
    with simulator_for(
        live_server, settings, "--accept-unknown", "--download-limit", "3", token=TOKEN, RETRIES=1, TIMEOUT=5,
        SMDP_ID="refill-smdp-simulator", DOWNLOAD_LIMIT=3,
    ) as simulator:  # fmt: skip
        yield simulator


@pytest.fixture
def stock(sim):
    rows = "\n".join(f"{iccid(n)},{23415000000000 + n},consumer" for n in range(1, 6))
    inventory_import(file_name="stock.csv", content=f"iccid,imsi,profile_type\n{rows}\n".encode())
    sim.add_profiles(*(iccid(n) for n in range(1, 6)))


@pytest.fixture
def line(db):
    market = make_market()
    customer, _ = make_customer()
    line = make_line(customer, market, make_plan(market), sim_type="esim")
    type(line).objects.filter(pk=line.pk).update(status="active")  # paid for: a pending line gets no code
    line.refresh_from_db()
    return line


def test_new_line_gets_a_released_profile_and_its_activation_code(sim, stock, line):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    line.refresh_from_db()
    profile = Profile.objects.get(line=line)
    assert line.iccid == profile.iccid == iccid(1)
    assert (order.status, profile.smdp_state, profile.network_state) == ("released", "released", "active")
    code = parse_activation_code(str(order.activation_code))
    assert code.smdp_address == "smdp.refill.test" and code.matching_id == sim.profile(profile.iccid)["matchingId"]
    # asked again: the same order, nothing new at the SM-DP+
    assert services.esim_for_new_line(line=line, profile_type="consumer") == order
    assert len(sim.calls("downloadOrder")) == 1


def test_the_phone_downloads_and_installs_and_refill_follows(sim, stock, line):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sent = sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID})["sent"]
    assert [s["delivered"] for s in sent] == [204, 204, 204]  # points 1, 3 and 4
    order.refresh_from_db()
    profile = order.profile
    profile.refresh_from_db()
    assert (order.status, profile.smdp_state, profile.downloads, profile.eid) == ("installed", "installed", 1, EID)
    assert order.downloaded_at and order.installed_at
    assert [e.outcome for e in ProfileEvent.objects.order_by("pk")] == ["unchanged", "applied", "applied"]
    # deleted on the phone
    sim.post("/sim/device/delete", {"iccid": profile.iccid})
    profile.refresh_from_db()
    assert profile.smdp_state == "deleted"


def test_replays_change_nothing_and_late_news_is_stale(sim, stock, line, client):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID})
    sent = sim.get("/sim/notifications")
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Admin-Protocol": "gsma/rsp/v2.5.0"}
    for body in sent:  # the SM-DP+ sends every one again
        response = client.post(
            "/gsma/rsp2/es2plus/handleDownloadProgressInfo", body, "application/json", headers=headers
        )
        assert response.status_code == 204
    assert ProfileEvent.objects.count() == 3
    downloaded = dict(sent[1], header={**sent[1]["header"], "functionCallIdentifier": "late-copy"})
    client.post("/gsma/rsp2/es2plus/handleDownloadProgressInfo", downloaded, "application/json", headers=headers)
    profile = Profile.objects.get(line=line)
    assert (profile.smdp_state, profile.downloads) == ("installed", 1)
    assert ProfileEvent.objects.get(call_id="late-copy").outcome == "unchanged"


def test_installed_before_downloaded_arrives(sim, stock, line, client):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/callback", {"url": "", "token": ""})  # hold the notifications back
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID})
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Admin-Protocol": "gsma/rsp/v2.5.0"}
    for body in reversed(sim.get("/sim/notifications")):
        client.post("/gsma/rsp2/es2plus/handleDownloadProgressInfo", body, "application/json", headers=headers)
    order.refresh_from_db()
    assert order.status == "installed" and order.profile.downloads == 1 and order.profile.smdp_state == "installed"


def test_illegal_notifications_are_refused_and_logged(sim, stock, client, caplog):
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Admin-Protocol": "gsma/rsp/v2.5.0"}
    body = {
        "header": {"functionRequesterIdentifier": "refill-smdp-simulator", "functionCallIdentifier": "odd-1"},
        "iccid": iccid(2), "profileType": "consumer", "timestamp": "2026-11-23T10:00:00Z",
        "notificationPointId": 4, "notificationPointStatus": {"status": "Executed-Success"},
    }  # fmt: skip
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/gsma/rsp2/es2plus/handleDownloadProgressInfo", body, "application/json", headers=headers
        )
    assert response.status_code == 204  # received; not applied
    event = ProfileEvent.objects.get(call_id="odd-1")
    assert event.outcome == "refused" and "available" in event.detail
    assert Profile.objects.get(iccid=iccid(2)).smdp_state == "available"
    assert "refused" in caplog.text
    # points this version does not follow are kept, and change nothing
    body["header"]["functionCallIdentifier"], body["notificationPointId"] = "odd-2", 101
    client.post("/gsma/rsp2/es2plus/handleDownloadProgressInfo", body, "application/json", headers=headers)
    assert ProfileEvent.objects.get(call_id="odd-2").outcome == "unchanged"


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, None, 401),
        ({"Authorization": "Bearer wrong"}, None, 401),
        ({"Authorization": f"Bearer {TOKEN}", "X-Admin-Protocol": "gsma/rsp/v2.5.0"}, {"header": {
            "functionRequesterIdentifier": "another-smdp", "functionCallIdentifier": "x"}}, 403),
        ({"Authorization": f"Bearer {TOKEN}", "X-Admin-Protocol": "gsma/rsp/v2.5.0"}, {"header": {
            "functionRequesterIdentifier": "refill-smdp-simulator", "functionCallIdentifier": "x"}}, 400),
        ({"Authorization": f"Bearer {TOKEN}"}, None, 400),
    ],
)  # fmt: skip
def test_the_endpoint_is_authenticated_and_strict(sim, client, headers, body, status):
    body = body or {"header": {"functionRequesterIdentifier": "refill-smdp-simulator", "functionCallIdentifier": "y"}}
    response = client.post("/gsma/rsp2/es2plus/handleDownloadProgressInfo", body, "application/json", headers=headers)
    assert response.status_code == status
    assert response.json()["header"]["functionExecutionStatus"]["status"] == "Failed"
    assert not ProfileEvent.objects.exists()


@pytest.mark.parametrize(
    ("fail", "points", "code"),
    [("confirmation", [1, 2], "8.2.7/6.4"), ("download", [1, 3], "8.2.10/4.2"), ("install", [1, 3, 4], "8.2.10/4.2")],
)
def test_failures_at_each_point(sim, stock, line, fail, points, code):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sent = sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID, "fail": fail})["sent"]
    assert [s["notification"]["notificationPointId"] for s in sent] == points
    order.refresh_from_db()
    assert (order.status, order.error_code, order.profile.smdp_state) == ("failed", code, "error")
    # the customer can get a new code and try again
    again = services.esim_reissue(line=line)
    sim.post("/sim/device/download", {"matchingId": again.matching_id, "eid": EID})
    again.refresh_from_db()
    assert again.status == "installed"


def test_a_failed_eligibility_check(sim, stock, line):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID, "install": False})
    sim.post("/sim/callback", {"url": "", "token": ""})
    # a second phone tries the same code: refused at the eligibility check (point 1)
    [refused] = sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": NEW_PHONE})["sent"]
    body = refused["notification"]
    assert body["notificationPointId"] == 1 and body["notificationPointStatus"]["status"] == "Failed"
    event = smdp_notifications.esim_notification(requester="refill-smdp-simulator", body=body)
    order.refresh_from_db()
    # the first phone's download goes on: the refusal was the other phone's
    assert (event.outcome, event.detail, order.status) == ("unchanged", "another device was refused", "downloaded")


def test_a_failed_eligibility_check_before_any_download(sim, stock, line):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    body = {
        "header": {"functionRequesterIdentifier": "refill-smdp-simulator", "functionCallIdentifier": "np1-failed"},
        "iccid": order.profile.iccid, "profileType": "consumer", "timestamp": "2026-11-23T10:00:00Z", "eid": EID,
        "notificationPointId": 1,
        "notificationPointStatus": {
            "status": "Failed", "statusCodeData": {"subjectCode": "8.8.5", "reasonCode": "6.4"}},
    }  # fmt: skip
    event = smdp_notifications.esim_notification(requester="refill-smdp-simulator", body=body)
    order.refresh_from_db()
    assert (event.outcome, order.status, order.error_code) == ("applied", "failed", "8.8.5/6.4")


def test_reissue_for_a_new_phone_cancels_the_unused_order(sim, stock, line):
    first = services.esim_for_new_line(line=line, profile_type="consumer")
    second = services.esim_reissue(line=line)
    first.refresh_from_db()
    assert first.status == "cancelled" and second.status == "released"
    assert second.matching_id != first.matching_id and second.profile_id == first.profile_id
    assert [c["body"]["finalProfileStatusIndicator"] for c in sim.calls("cancelOrder")] == ["Available"]
    # the old code no longer works; the new one does
    assert "error" in sim.post("/sim/device/download", {"matchingId": first.matching_id, "eid": EID})["sent"][0]
    sim.post("/sim/device/download", {"matchingId": second.matching_id, "eid": NEW_PHONE})
    second.refresh_from_db()
    assert second.status == "installed" and second.eid == NEW_PHONE


def test_reissue_after_install_respects_the_download_limit(sim, stock, line):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    for _phone in range(3):
        sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID})
        order.refresh_from_db()
        assert order.status == "installed"
        if order.profile.downloads < 3:
            order = services.esim_reissue(line=line)
    calls = len(sim.calls())
    with pytest.raises(es2plus.DownloadLimitReached) as refused:
        services.esim_reissue(line=line)
    assert "contact support" in str(refused.value)
    assert len(sim.calls()) == calls  # told before anything was asked of the SM-DP+


def test_reissue_while_downloading_waits(sim, stock, line):
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    sim.post("/sim/device/download", {"matchingId": order.matching_id, "eid": EID, "install": False})
    with pytest.raises(services.DownloadInProgress):
        services.esim_reissue(line=line)


def test_physical_sims_and_released_numbers_have_no_esim(sim, stock, line):
    physical = make_line(line.owner, line.market, line.plan, sim_type="physical")
    with pytest.raises(services.NotAnEsimLine):
        services.esim_for_new_line(line=physical, profile_type="consumer")
    services.esim_for_new_line(line=line, profile_type="consumer")
    type(line).objects.filter(pk=line.pk).update(status="aging")
    line.refresh_from_db()
    with pytest.raises(services.ReissueNotAllowed):
        services.esim_reissue(line=line)


def test_the_pool_keeps_profiles_ready(sim, stock, line):
    assert services.esim_pool_fill(low_water=2) == 2
    assert services.esim_pool_fill(low_water=2) == 0  # already full
    ready = set(EsimOrder.objects.filter(reason="pool", status="released").values_list("pk", flat=True))
    calls = len(sim.calls())
    order = services.esim_for_new_line(line=line, profile_type="consumer")
    assert order.pk in ready and order.reason == "new_line" and order.line == line
    assert len(sim.calls()) == calls  # its QR at once: no SM-DP+ call
    assert services.esim_pool_fill(low_water=2) == 1


def test_out_of_stock(sim, line):
    with pytest.raises(services.NoProfileInStock):
        services.esim_for_new_line(line=line, profile_type="consumer")
    assert not EsimOrder.objects.exists()


def test_an_unreachable_smdp_leaves_the_order_to_resume(sim, stock, line):
    sim.fault("confirmOrder", "http500", times=2)
    with pytest.raises(es2plus.SmdpUnavailable):
        services.esim_for_new_line(line=line, profile_type="consumer")
    order = EsimOrder.objects.get(line=line)
    assert order.status == "ordering"
    assert services.esim_orders_resume(older_than_seconds=0) == 1
    order.refresh_from_db()
    assert order.status == "released" and order.matching_id
    # the same call identifiers were sent again
    assert {c["callId"] for c in sim.calls("downloadOrder")} == {order.download_call_id}


def test_profiles_follow_their_lines_on_the_network(sim, stock, line):
    services.esim_for_new_line(line=line, profile_type="consumer")
    type(line).objects.filter(pk=line.pk).update(status="suspended")
    assert services.esim_profiles_follow_lines() == 1
    assert Profile.objects.get(line=line).network_state == "barred"
    assert services.esim_profiles_follow_lines() == 0
