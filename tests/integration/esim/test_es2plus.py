"""The ES2+ client against the SM-DP+ simulator in its own process: every function, the GSMA
conventions, refusals mapped to errors, timeouts and retries that are safe to repeat, mutual TLS."""

import subprocess
from dataclasses import replace

import pytest

from refill.integrations.esim import es2plus
from refill.integrations.esim.es2plus import Es2Client, Es2Config
from tests.factories import esim_batch_iccid
from tests.smdp import Simulator

EID = "89049032007008882600000000000020"
OTHER_EID = "89049032007008882600000000000117"


def iccid(n: int) -> str:
    return esim_batch_iccid(1, n)


@pytest.fixture(scope="module")
def sim():
    with Simulator("--download-limit", "2") as simulator:
        yield simulator


@pytest.fixture
def client(sim):
    return Es2Client(Es2Config(base_url=sim.url, requester_id="refill-operator", timeout=5, retries=2, backoff=0.05))


_n = iter(range(1, 1000))


@pytest.fixture
def profile(sim):
    number = iccid(next(_n))
    sim.add_profiles(number)
    return number


def test_order_confirm_release_cancel(sim, client, profile):
    assert client.download_order(call_id="c1-" + profile, iccid=profile) == profile
    assert sim.profile(profile)["state"] == "allocated"
    confirmed = client.confirm_order(call_id="c2-" + profile, iccid=profile, release=False)
    assert sim.profile(profile)["state"] == "confirmed"
    assert confirmed.smdp_address == "smdp.refill.test"
    assert len(confirmed.matching_id) == 23 and confirmed.matching_id.replace("-", "").isalnum()
    client.release_profile(call_id="c3-" + profile, iccid=profile)
    assert sim.profile(profile)["state"] == "released"
    client.cancel_order(call_id="c4-" + profile, iccid=profile, available=True, matching_id=confirmed.matching_id)
    assert sim.profile(profile) | {"changed": None} == sim.profile(profile) | {
        "state": "available", "eid": "", "matchingId": "", "changed": None
    }  # fmt: skip


def test_gsma_conventions_on_every_call(sim, client, profile):
    client.download_order(call_id=client.new_call_id(), iccid=profile, eid=EID)
    client.confirm_order(
        call_id=client.new_call_id(), iccid=profile, eid=EID, matching_id="REFILL-TEST-" + profile[-4:]
    )
    calls = [c for c in sim.calls() if profile in str(c["body"])]
    assert [c["function"] for c in calls] == ["downloadOrder", "confirmOrder"]
    assert {c["requester"] for c in calls} == {"refill-operator"}
    assert len({c["callId"] for c in calls}) == 2
    assert calls[1]["body"]["releaseFlag"] is True and calls[1]["body"]["eid"] == EID
    assert sim.profile(profile)["matchingId"] == "REFILL-TEST-" + profile[-4:]


def test_cancel_to_unavailable_is_for_good(sim, client, profile):
    client.download_order(call_id=client.new_call_id(), iccid=profile)
    client.cancel_order(call_id=client.new_call_id(), iccid=profile, available=False)
    assert sim.profile(profile)["state"] == "unavailable"
    with pytest.raises(es2plus.ProfileUnavailable):
        client.download_order(call_id=client.new_call_id(), iccid=profile)


@pytest.mark.parametrize(
    ("setup", "call", "error"),
    [
        ([], lambda c, i: c.download_order(call_id=c.new_call_id(), iccid=iccid(999)), es2plus.ProfileUnknown),
        (["order"], lambda c, i: c.download_order(call_id=c.new_call_id(), iccid=i), es2plus.ProfileUnavailable),
        ([], lambda c, i: c.confirm_order(call_id=c.new_call_id(), iccid=i), es2plus.InvalidTransition),
        ([], lambda c, i: c.release_profile(call_id=c.new_call_id(), iccid=i), es2plus.InvalidTransition),
        ([], lambda c, i: c.cancel_order(call_id=c.new_call_id(), iccid=i), es2plus.InvalidTransition),
        (["order-eid"], lambda c, i: c.confirm_order(call_id=c.new_call_id(), iccid=i, eid=OTHER_EID),
         es2plus.DeviceMismatch),
        (["order"], lambda c, i: c.cancel_order(call_id=c.new_call_id(), iccid=i, matching_id="NOT-IT"),
         es2plus.DeviceMismatch),
        ([], lambda c, i: c.download_order(call_id=c.new_call_id(), profile_type="nope"), es2plus.ProfileUnknown),
        ([], lambda c, i: c.download_order(call_id=c.new_call_id(), iccid=i, profile_type="iot"),
         es2plus.ProfileUnknown),
    ],
)  # fmt: skip
def test_refusals_map_to_clear_errors(client, profile, setup, call, error):
    if "order" in setup:
        client.download_order(call_id=client.new_call_id(), iccid=profile)
    if "order-eid" in setup:
        client.download_order(call_id=client.new_call_id(), iccid=profile, eid=EID)
    with pytest.raises(error) as refused:
        call(client, profile)
    assert refused.value.subject and refused.value.reason
    assert str(refused.value)  # a sentence for people, not a code


def test_no_profile_of_a_type_left(sim, client):
    sim.add_profiles(iccid(900), profile_type="iot-1")
    assert client.download_order(call_id=client.new_call_id(), profile_type="iot-1") == iccid(900)
    with pytest.raises(es2plus.NoProfilesLeft):
        client.download_order(call_id=client.new_call_id(), profile_type="iot-1")


def test_matching_id_in_use(client, sim):
    first, second = iccid(901), iccid(902)
    sim.add_profiles(first, second)
    for number in (first, second):
        client.download_order(call_id=client.new_call_id(), iccid=number)
    client.confirm_order(call_id=client.new_call_id(), iccid=first, matching_id="SAME-1")
    with pytest.raises(es2plus.MatchingIdInUse):
        client.confirm_order(call_id=client.new_call_id(), iccid=second, matching_id="SAME-1")


def test_redownload_limit(sim, client, profile):
    for download in range(2):
        client.download_order(call_id=client.new_call_id(), iccid=profile)
        confirmed = client.confirm_order(call_id=client.new_call_id(), iccid=profile)
        sim.post("/sim/device/download", {"matchingId": confirmed.matching_id, "eid": EID})
        assert sim.profile(profile) | {"changed": 0} == sim.profile(profile) | {
            "state": "installed",
            "downloads": download + 1,
            "changed": 0,
        }
    with pytest.raises(es2plus.DownloadLimitReached) as refused:
        client.download_order(call_id=client.new_call_id(), iccid=profile)
    assert (refused.value.subject, refused.value.reason) == ("8.2.1", "6.4")


def test_unknown_requester_is_not_allowed(sim, client, profile):
    stranger = Es2Client(replace(client.config, requester_id="someone-else"))
    with pytest.raises(es2plus.NotAllowed):
        stranger.download_order(call_id=stranger.new_call_id(), iccid=profile)


def test_same_call_identifier_answers_once(sim, client, profile):
    client.download_order(call_id="dl-" + profile, iccid=profile)
    first = client.confirm_order(call_id="cf-" + profile, iccid=profile)
    # sent again (a lost answer): the same answer, nothing run twice
    assert client.download_order(call_id="dl-" + profile, iccid=profile) == profile
    assert client.confirm_order(call_id="cf-" + profile, iccid=profile) == first
    assert sim.profile(profile)["matchingId"] == first.matching_id
    # the same identifier for another request is refused
    with pytest.raises(es2plus.Es2Error):
        client.confirm_order(call_id="cf-" + profile, iccid=profile, release=False)


@pytest.mark.parametrize("mode", ["timeout", "drop", "http500"])
def test_lost_calls_are_sent_again_with_the_same_identifier(sim, client, profile, mode):
    quick = Es2Client(replace(client.config, timeout=0.5))
    sim.fault("downloadOrder", mode, seconds=1.5)
    assert quick.download_order(call_id="again-" + profile, iccid=profile) == profile
    sent = [c for c in sim.calls("downloadOrder") if c["callId"] == "again-" + profile]
    assert len(sent) >= 1 and sim.profile(profile)["state"] == "allocated"


def test_an_smdp_that_stays_down_is_unavailable(sim, client, profile):
    sim.fault("confirmOrder", "http500", times=5)
    client.download_order(call_id=client.new_call_id(), iccid=profile)
    with pytest.raises(es2plus.SmdpUnavailable):
        client.confirm_order(call_id=client.new_call_id(), iccid=profile)
    sim.fault("confirmOrder", "http500", times=0)
    down = Es2Client(replace(client.config, base_url="http://127.0.0.1:9", retries=0))
    with pytest.raises(es2plus.SmdpUnavailable):
        down.release_profile(call_id=down.new_call_id(), iccid=profile)


def test_an_injected_failure_status(sim, client, profile):
    sim.fault("releaseProfile", "error", subject="8.8", reason="4.2")
    with pytest.raises(es2plus.Es2Error) as refused:
        client.release_profile(call_id=client.new_call_id(), iccid=profile)
    assert type(refused.value) is es2plus.Es2Error and refused.value.subject == "8.8"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, the SM-DP+'s server certificate for 127.0.0.1, and Refill's client certificate."""
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Refill test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    for name, usage in (("server", "serverAuth\nsubjectAltName=IP:127.0.0.1"), ("client", "clientAuth")):
        ext = f"authorityKeyIdentifier=keyid\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}"
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN=refill-{name}")  # fmt: skip
        (d / f"{name}.ext").write_text(ext + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext")  # fmt: skip
    return d


def test_mutual_tls(pki):
    with Simulator(
        "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"), "--client-ca", str(pki / "ca.pem"),
        "--accept-unknown",
    ) as tls_sim:  # fmt: skip
        config = Es2Config(base_url=tls_sim.url, requester_id="refill-operator", timeout=5, retries=0,
                           client_cert=str(pki / "client.pem"), client_key=str(pki / "client.key"),
                           ca_file=str(pki / "ca.pem"))  # fmt: skip
        assert Es2Client(config).download_order(call_id="tls-1", iccid=iccid(950)) == iccid(950)
        # without a client certificate the SM-DP+ does not talk to us
        with pytest.raises((es2plus.SmdpProtocolError, es2plus.SmdpUnavailable)):
            Es2Client(replace(config, client_cert="", client_key="")).download_order(call_id="tls-2", iccid=iccid(951))
        # nor do we to an SM-DP+ whose certificate our CA did not sign
        with pytest.raises(es2plus.SmdpProtocolError):
            Es2Client(replace(config, ca_file="")).download_order(call_id="tls-3", iccid=iccid(952))
