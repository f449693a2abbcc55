"""An SM-DP+ simulator that speaks ES2+ (GSMA SGP.22) over HTTP or HTTPS with mutual TLS.

It keeps profiles in memory with the SM-DP+ states (available, allocated, linked, confirmed,
released, downloaded, installed, deleted, error, unavailable), answers the operator functions
(downloadOrder, confirmOrder, cancelOrder, releaseProfile), enforces a re-download limit per
profile, and tells the operator about downloads with handleDownloadProgressInfo callbacks.
A call sent again with the same functionCallIdentifier is answered as the first time, without
being run twice.

A phone is simulated through ``/sim/…`` endpoints (not part of ES2+): download a released
profile with its matching ID (``/sim/device/download``), delete it (``/sim/device/delete``).
Tests also use ``/sim/profiles`` (load, inspect), ``/sim/faults`` (make the next calls time out,
fail or drop the connection), ``/sim/calls`` and ``/sim/notifications`` (what was received and sent).

    python tools/smdp_sim.py --port 8720 --callback http://127.0.0.1:8000/gsma/rsp2/es2plus/handleDownloadProgressInfo \
        --callback-token TOKEN [--accept-unknown] [--tls-cert C --tls-key K --client-ca CA]

Standard library only; docs/esim.md says how to point Refill at a real SM-DP+ instead.
"""

from __future__ import annotations

import argparse
import json
import secrets
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROTOCOL = "gsma/rsp/v2.5.0"
ES2 = "/gsma/rsp2/es2plus/"
ORDERED = {"allocated", "linked", "confirmed", "released"}
ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class Refused(Exception):
    def __init__(self, subject: str, reason: str, message: str, status: str = "Failed") -> None:
        super().__init__(message)
        self.subject, self.reason, self.message, self.status = subject, reason, message, status


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _iccid(raw) -> str:
    value = str(raw or "").strip().upper()
    if len(value) == 20 and value.endswith("F"):
        value = value[:-1]
    if not value.isdigit() or not 18 <= len(value) <= 20 or not _luhn_ok(value):
        raise Refused("8.2.1", "2.1", "ICCID is invalid")
    return value


class Smdp:
    """The SM-DP+'s books. One lock: calls are short."""

    def __init__(self, *, smdp_id: str, address: str, requesters: set[str], download_limit: int,
                 accept_unknown: bool, failure_state: str) -> None:  # fmt: skip
        self.smdp_id, self.address, self.requesters = smdp_id, address, requesters
        self.download_limit, self.accept_unknown, self.failure_state = download_limit, accept_unknown, failure_state
        self.lock = threading.RLock()
        self.profiles: dict[str, dict] = {}
        self.answers: dict[tuple[str, str], tuple[str, dict]] = {}  # (requester, call id) -> (body, answer)
        self.faults: list[dict] = []
        self.calls: list[dict] = []
        self.notifications: list[dict] = []
        self.callback_url = ""
        self.callback_token = ""

    # Profiles

    def add(self, iccid: str, profile_type: str) -> dict:
        with self.lock:
            iccid = _iccid(iccid)
            return self.profiles.setdefault(iccid, self._blank(iccid, profile_type))

    @staticmethod
    def _blank(iccid: str, profile_type: str) -> dict:
        return {"iccid": iccid, "profileType": profile_type, "state": "available", "eid": "", "matchingId": "",
                "downloads": 0, "changed": _now()}  # fmt: skip

    def _profile(self, iccid: str, profile_type: str = "") -> dict:
        profile = self.profiles.get(iccid)
        if profile is None and self.accept_unknown:
            profile = self.profiles[iccid] = self._blank(iccid, profile_type or "default")
        if profile is None:
            raise Refused("8.2.1", "3.9", "ICCID unknown")
        return profile

    @staticmethod
    def _move(profile: dict, state: str) -> None:
        profile["state"], profile["changed"] = state, _now()

    # ES2+ functions

    def run(self, function: str, body: dict) -> dict:
        header = body.get("header") or {}
        requester, call_id = header.get("functionRequesterIdentifier"), header.get("functionCallIdentifier")
        if not requester or not call_id:
            raise Refused("1.3.1", "2.2", "header.functionRequesterIdentifier and functionCallIdentifier are required")
        if requester not in self.requesters:
            raise Refused("1.1", "1.2", "function requester not allowed")
        key = (requester, call_id)
        canonical = json.dumps({k: v for k, v in body.items() if k != "header"}, sort_keys=True)
        with self.lock:
            self.calls.append({"function": function, "requester": requester, "callId": call_id, "body": body})
            if key in self.answers:
                first_body, answer = self.answers[key]
                if first_body != canonical:
                    raise Refused("1.6", "3.3", "functionCallIdentifier already used for another request")
                return answer
            answer = getattr(self, "_" + function)(body)
            self.answers[key] = (canonical, answer)
            return answer

    def _downloadOrder(self, body: dict) -> dict:  # noqa: N802 - ES2+ function names
        eid, profile_type = str(body.get("eid") or ""), str(body.get("profileType") or "")
        if body.get("iccid"):
            profile = self._profile(_iccid(body["iccid"]), profile_type)
            if profile_type and profile["profileType"] != profile_type:
                raise Refused("8.2.5", "3.8", "profile type does not match the ICCID")
        elif profile_type:
            stock = [p for p in self.profiles.values() if p["profileType"] == profile_type]
            if not stock:
                raise Refused("8.2.5", "3.9", "profile type unknown")
            profile = next((p for p in sorted(stock, key=lambda p: p["iccid"]) if p["state"] == "available"), None)
            if profile is None:
                raise Refused("8.2.5", "3.7", "no profile of this type is available")
        else:
            raise Refused("8.2.1", "2.2", "iccid or profileType is required")
        if profile["state"] in ("installed", "deleted", "error"):
            # Downloaded before: this SM-DP+ lets it be downloaded again up to the limit.
            if profile["downloads"] >= self.download_limit:
                raise Refused("8.2.1", "6.4", "maximum number of downloads reached")
        elif profile["state"] != "available":
            raise Refused("8.2.1", "3.3", "profile not available")
        profile.update(eid=eid, matchingId="")
        self._move(profile, "linked" if eid else "allocated")
        return {"iccid": profile["iccid"]}

    def _confirmOrder(self, body: dict) -> dict:  # noqa: N802
        profile = self._profile(_iccid(body.get("iccid")))
        if "releaseFlag" not in body:
            raise Refused("8.2.1", "2.2", "releaseFlag is required")
        eid = str(body.get("eid") or "")
        if profile["eid"] and eid and eid != profile["eid"]:
            raise Refused("8.1.1", "3.10", "another EID is associated with this profile")
        if profile["state"] not in ("allocated", "linked"):
            raise Refused("8.2.1", "3.5", f"a {profile['state']} profile cannot be confirmed")
        matching_id = str(body.get("matchingId") or "") or self._new_matching_id()
        if any(p["matchingId"] == matching_id for p in self.profiles.values() if p is not profile):
            raise Refused("8.2.6", "3.3", "matching ID already in use")
        profile.update(eid=eid or profile["eid"], matchingId=matching_id)
        self._move(profile, "released" if body["releaseFlag"] else "confirmed")
        answer = {"matchingId": matching_id, "smdpAddress": self.address}
        if profile["eid"]:
            answer["eid"] = profile["eid"]
        return answer

    def _cancelOrder(self, body: dict) -> dict:  # noqa: N802
        profile = self._profile(_iccid(body.get("iccid")))
        final = body.get("finalProfileStatusIndicator")
        if final not in ("Available", "Unavailable"):
            raise Refused("8.2.1", "2.2", "finalProfileStatusIndicator must be Available or Unavailable")
        if body.get("eid") and profile["eid"] and body["eid"] != profile["eid"]:
            raise Refused("8.1.1", "3.10", "another EID is associated with this profile")
        if body.get("matchingId") and body["matchingId"] != profile["matchingId"]:
            raise Refused("8.2.6", "3.10", "another matching ID is associated with this profile")
        if profile["state"] in ("downloaded", "installed", "deleted"):
            raise Refused("8.2.1", "3.3", "profile already downloaded")
        if profile["state"] not in ORDERED | {"error"}:
            raise Refused("8.2.1", "3.5", f"a {profile['state']} profile has no order to cancel")
        profile.update(matchingId="", eid="")
        # A profile downloaded before keeps its count; it goes back to where it was usable.
        self._move(profile, "unavailable" if final == "Unavailable" else "available")
        return {}

    def _releaseProfile(self, body: dict) -> dict:  # noqa: N802
        profile = self._profile(_iccid(body.get("iccid")))
        if profile["state"] == "released":
            return {}
        if profile["state"] != "confirmed":
            raise Refused("8.2.1", "3.5", f"a {profile['state']} profile cannot be released")
        self._move(profile, "released")
        return {}

    def _new_matching_id(self) -> str:
        return "-".join("".join(secrets.choice(ALPHABET) for _ in range(5)) for _ in range(4))

    # The phone

    def download(self, matching_id: str, eid: str, *, install: bool = True, fail: str = "") -> list[dict]:
        """A phone downloads (and installs) the profile released for ``matching_id``; ``fail`` makes
        the confirmation code, the download or the installation fail."""
        with self.lock:
            profile = next((p for p in self.profiles.values() if matching_id and p["matchingId"] == matching_id), None)
            if profile is None:
                return [{"error": "8.2.6/3.8 matching ID refused"}]
            sent = []
            if profile["state"] != "released" or (profile["eid"] and profile["eid"] != eid):
                return [self.notify(profile, 1, eid, ("8.1.1", "3.8") if profile["eid"] != eid else ("8.2", "1.2"))]
            if profile["downloads"] >= self.download_limit:
                return [self.notify(profile, 1, eid, ("8.8.5", "6.4"))]
            sent.append(self.notify(profile, 1, eid))
            if fail == "confirmation":  # the phone's user typed a wrong confirmation code too often
                self._move(profile, self.failure_state)
                return [*sent, self.notify(profile, 2, eid, ("8.2.7", "6.4"))]
            if fail == "download":
                self._move(profile, self.failure_state)
                return [*sent, self.notify(profile, 3, eid, ("8.2.10", "4.2"))]
            profile["eid"], profile["downloads"] = eid, profile["downloads"] + 1
            self._move(profile, "downloaded")
            sent.append(self.notify(profile, 3, eid))
            if fail == "install":
                self._move(profile, self.failure_state)
                sent.append(self.notify(profile, 4, eid, ("8.2.10", "4.2")))
            elif install:
                self._move(profile, "installed")
                sent.append(self.notify(profile, 4, eid))
            return sent

    def delete(self, iccid: str) -> list[dict]:
        with self.lock:
            profile = self._profile(_iccid(iccid))
            if profile["state"] != "installed":
                return [{"error": f"a {profile['state']} profile is not on a phone"}]
            self._move(profile, "deleted")
            return [self.notify(profile, 5, profile["eid"])]

    def notify(self, profile: dict, point: int, eid: str, failure: tuple[str, str] | None = None) -> dict:
        status = {"status": "Executed-Success"}
        if failure:
            status = {"status": "Failed", "statusCodeData": {"subjectCode": failure[0], "reasonCode": failure[1]}}
        body = {
            "header": {"functionRequesterIdentifier": self.smdp_id, "functionCallIdentifier": uuid.uuid4().hex},
            "iccid": profile["iccid"],
            "profileType": profile["profileType"],
            "timestamp": _now(),
            "notificationPointId": point,
            "notificationPointStatus": status,
        }
        if eid:
            body["eid"] = eid
        self.notifications.append(body)
        return {"notification": body, "delivered": self.deliver(body)}

    def deliver(self, body: dict, attempts: int = 3) -> int | None:
        """POST a notification to the operator, again after a failure; the HTTP status, or None."""
        if not self.callback_url:
            return None
        data = json.dumps(body).encode()
        for attempt in range(attempts):
            request = urllib.request.Request(self.callback_url, data=data, method="POST", headers={
                "Content-Type": "application/json", "X-Admin-Protocol": PROTOCOL,
                "Authorization": f"Bearer {self.callback_token}"})  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status in (200, 204):
                        return response.status
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return exc.code
            except OSError:
                pass
            time.sleep(0.2 * (attempt + 1))
        return None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_handler(smdp: Smdp):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet; the calls are kept in /sim/calls
            pass

        def _json(self, status: int, body, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self):  # noqa: N802
            if self.path.startswith("/sim/profiles/"):
                profile = smdp.profiles.get(self.path.rsplit("/", 1)[1])
                return self._json(200 if profile else 404, profile or {})
            if self.path == "/sim/calls":
                return self._json(200, smdp.calls)
            if self.path == "/sim/notifications":
                return self._json(200, smdp.notifications)
            if self.path == "/sim/health":
                return self._json(200, {"status": "ok"})
            self._json(404, {})

        def do_POST(self):  # noqa: N802
            try:
                body = self._body()
            except ValueError:
                return self._json(400, {"error": "not JSON"})
            if self.path.startswith(ES2):
                return self._es2(self.path[len(ES2) :], body)
            if self.path == "/sim/profiles":
                added = [smdp.add(p["iccid"], p.get("profileType", "default")) for p in body.get("profiles", [])]
                return self._json(200, {"added": len(added)})
            if self.path == "/sim/faults":
                with smdp.lock:
                    smdp.faults.append({"times": 1, **body})
                return self._json(200, {"faults": len(smdp.faults)})
            if self.path == "/sim/callback":
                smdp.callback_url, smdp.callback_token = body.get("url", ""), body.get("token", "")
                return self._json(200, {})
            if self.path == "/sim/device/download":
                sent = smdp.download(body.get("matchingId", ""), body.get("eid", ""),
                                     install=body.get("install", True), fail=body.get("fail", ""))  # fmt: skip
                return self._json(200, {"sent": sent})
            if self.path == "/sim/device/delete":
                return self._json(200, {"sent": smdp.delete(body.get("iccid", ""))})
            self._json(404, {})

        def _es2(self, function: str, body: dict) -> None:
            if function not in ("downloadOrder", "confirmOrder", "cancelOrder", "releaseProfile"):
                return self._json(404, {})
            fault = self._fault(function)
            if fault and fault.get("mode") == "timeout":
                time.sleep(float(fault.get("seconds", 30)))
            if fault and fault.get("mode") == "drop":
                self.close_connection = True
                self.connection.close()
                return None
            if fault and fault.get("mode") == "http500":
                return self._json(500, {})
            if not (self.headers.get("X-Admin-Protocol") or "").startswith("gsma/rsp/v2"):
                return self._status(Refused("1.3.2", "3.1", "X-Admin-Protocol must be gsma/rsp/v2.x"))
            if fault and fault.get("mode") == "error":
                return self._status(Refused(fault.get("subject", "8.8"), fault.get("reason", "4.2"), "injected"))
            try:
                answer = smdp.run(function, body)
            except Refused as refused:
                return self._status(refused)
            self._json(200, {"header": {"functionExecutionStatus": {"status": "Executed-Success"}}, **answer},
                       {"X-Admin-Protocol": PROTOCOL})  # fmt: skip

        def _status(self, refused: Refused) -> None:
            data = {"subjectCode": refused.subject, "reasonCode": refused.reason, "message": refused.message}
            status = {"status": refused.status, "statusCodeData": data}
            self._json(200, {"header": {"functionExecutionStatus": status}}, {"X-Admin-Protocol": PROTOCOL})

        def _fault(self, function: str) -> dict | None:
            with smdp.lock:
                for fault in smdp.faults:
                    if fault.get("function") in (function, "*") and fault["times"] > 0:
                        fault["times"] -= 1
                        return fault
            return None

    return Handler


def serve(args) -> ThreadingHTTPServer:
    smdp = Smdp(
        smdp_id=args.id,
        address=args.address,
        requesters=set(args.requester),
        download_limit=args.download_limit,
        accept_unknown=args.accept_unknown,
        failure_state=args.failure_state,
    )
    smdp.callback_url, smdp.callback_token = args.callback, args.callback_token
    server = ThreadingHTTPServer((args.host, args.port), make_handler(smdp))
    server.daemon_threads = True
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no call
            context.load_verify_locations(args.client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.smdp = smdp
    return server


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="SM-DP+ simulator (ES2+ over HTTP)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8720)
    p.add_argument("--id", default="refill-smdp-simulator", help="functionRequesterIdentifier of its notifications")
    p.add_argument("--address", default="smdp.refill.test", help="SM-DP+ address put in activation codes")
    p.add_argument("--requester", action="append", default=None, help="operator ids allowed (repeatable)")
    p.add_argument("--download-limit", type=int, default=3)
    p.add_argument("--accept-unknown", action="store_true", help="create profiles ordered by an unknown ICCID")
    p.add_argument("--failure-state", choices=["error", "released"], default="error",
                   help="where a failed download or installation leaves the profile")  # fmt: skip
    p.add_argument("--callback", default="", help="the operator's handleDownloadProgressInfo URL")
    p.add_argument("--callback-token", default="")
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    p.add_argument("--client-ca", default="", help="require client certificates signed by this CA")
    p.add_argument("--ready-file", default="", help="write the port here once listening")
    return p


def main(argv=None) -> None:
    args = parser().parse_args(argv)
    args.requester = args.requester or ["refill-operator"]
    server = serve(args)
    if args.ready_file:
        with open(args.ready_file, "w") as handle:
            handle.write(str(server.server_address[1]))
    print(f"SM-DP+ simulator on {args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
