"""A local stand-in for PayPal's REST API, started on loopback for the PayPal adapter's tests.

TEST DOUBLE. It serves what the adapter uses: the OAuth 2.0 client-credentials token, Orders v2
(create, show, capture), Payments v2 refunds and Webhooks v1's signature verification, plus the
buyer's approval page (approve, approve with a funding source that will be declined, cancel), so a
browser test can click through it as a buyer would.

Every API request is checked against PayPal's own published OpenAPI descriptions, read at run time
from the npm package @paypal/paypal-rest-api-specifications (tools/node, ``npm ci --prefix
tools/node --ignore-scripts``): the path and method, required headers and their formats, and the
body's schema, with openapi-core; and, stricter than the description's schemas (which allow any
extra member), no member the description does not name. A request that does not match answers
400 like PayPal's INVALID_REQUEST and is recorded, and the tests fail on any recorded violation
(``violations()``). The token call is not in PayPal's descriptions: it is checked against PayPal's
documented form (Basic client credentials, ``grant_type=client_credentials``).

What it does not do, stated plainly: no real funding sources, risk checks, currency conversion or
expiry of unapproved orders; webhook transmissions are signed with an HMAC of PayPal's signed string
(``transmission_id|transmission_time|webhook_id|crc32(body)``) instead of PayPal's RSA certificate,
which only the verification call (the stand-in itself) checks, exactly as Refill relies on PayPal.

``PayPalStandIn`` runs it in a child process and waits until it answers; run as a script, this
module is that child.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import itertools
import json
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPECIFICATIONS = REPO / "tools" / "node" / "node_modules" / "@paypal" / "paypal-rest-api-specifications" / "openapi"
# Which published description each API path is checked against.
DESCRIPTIONS = {
    "/v2/checkout/": "checkout_orders_v2.json",
    "/v2/payments/": "payments_payment_v2.json",
    "/v1/notifications/": "notifications_webhooks_v1.json",
}
SERVER = "https://api-m.sandbox.paypal.com"  # a server the descriptions list; paths are matched under it


class PayPalStandIn:
    CLIENT_ID = "refill-test-client"
    CLIENT_SECRET = "refill-test-secret"
    WEBHOOK_ID = "WH4REFILLTEST"

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def settings(self) -> dict:
        """Refill's settings for the PayPal adapter against this stand-in."""
        return {
            "REFILL_PAYPAL_CLIENT_ID": self.CLIENT_ID,
            "REFILL_PAYPAL_CLIENT_SECRET": self.CLIENT_SECRET,
            "REFILL_PAYPAL_WEBHOOK_ID": self.WEBHOOK_ID,
            "REFILL_PAYPAL_API_BASE": self.url,
            "REFILL_PAYPAL_TIMEOUT": 10,
        }

    def __enter__(self) -> PayPalStandIn:
        if not SPECIFICATIONS.is_dir():
            raise RuntimeError(f"{SPECIFICATIONS} is missing: run `npm ci --prefix tools/node --ignore-scripts`")
        self._process = subprocess.Popen([sys.executable, __file__, str(self.port)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the PayPal stand-in exited")
            try:
                self._test("GET", "/_test/violations")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the PayPal stand-in did not start within 30 s")

    def __exit__(self, *exc) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _test(self, method: str, path: str, payload: dict | None = None) -> dict:
        body = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"{}")

    # What a test does as the buyer, or as PayPal's side ------------------------------------------

    def buyer(self, order_id: str, decision: str) -> str:
        """The buyer's click on the approval page (``approve``, ``approve_declined``: a funding
        source PayPal will decline at capture, ``cancel``); returns where PayPal sends them."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        body = urllib.parse.urlencode({"decision": decision}).encode()
        try:
            opener.open(f"{self.url}/checkoutnow?token={order_id}", data=body, timeout=10)
        except urllib.error.HTTPError as answer:
            if answer.code == 302:
                return answer.headers["Location"]
            raise
        raise AssertionError("the approval page did not send the buyer back")

    def lose_next_answer(self, operation: str) -> None:
        """The next ``operation`` (create, capture, refund) is carried out, and its answer lost."""
        self._test("POST", "/_test/lose-next", {"operation": operation})

    def expire_tokens(self) -> None:
        self._test("POST", "/_test/expire-tokens", {})

    def order(self, order_id: str) -> dict:
        return self._test("GET", f"/_test/orders/{order_id}")

    def stats(self) -> dict:
        return self._test("GET", "/_test/stats")

    def violations(self, *, clear: bool = False) -> list[dict]:
        """Requests that did not match PayPal's descriptions (each also answered 400); ``clear``
        forgets them (after a test that sent a wrong request on purpose)."""
        return self._test("DELETE" if clear else "GET", "/_test/violations")["violations"]

    def event(self, event_type: str, order_id: str) -> tuple[bytes, dict[str, str]]:
        """A notification about the order's capture as PayPal sends it: the body and the
        transmission headers (a new transmission of the same event each time it is asked for
        again with ``again``)."""
        made = self._test("POST", "/_test/events", {"event_type": event_type, "order_id": order_id})
        return made["body"].encode(), made["headers"]

    def retransmit(self, event_id: str) -> tuple[bytes, dict[str, str]]:
        """PayPal delivering the same event again (a new transmission, the same event id)."""
        made = self._test("POST", "/_test/events", {"event_id": event_id})
        return made["body"].encode(), made["headers"]


# The child process -------------------------------------------------------------------------------

PAGE_TEXT = {
    "en": {
        "title": "PayPal (test stand-in)",
        "pay": "Pay {merchant}",
        "approve": "Pay now",
        "approve_declined": "Pay with a card that will be declined",
        "cancel": "Cancel and return to the merchant",
        "done": "This payment is no longer waiting for you.",
    },
    "zh": {
        "title": "PayPal（测试替身）",
        "pay": "付款给 {merchant}",
        "approve": "立即付款",
        "approve_declined": "用会被拒绝的卡付款",
        "cancel": "取消并返回商家",
        "done": "这笔付款已不再等待您的操作。",
    },
}


class Violation(Exception):
    pass


class Books:
    """The stand-in's state: orders, captures, refunds, answered request ids, transmissions."""

    def __init__(self) -> None:
        from openapi_core import Config, OpenAPI

        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.orders: dict[str, dict] = {}
        self.captures: dict[str, dict] = {}
        self.answered: dict[tuple[str, str], tuple[int, dict]] = {}
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.lose: set[str] = set()
        self.violations: list[dict] = []
        self.events: dict[str, dict] = {}
        self.transmissions: dict[str, dict] = {}
        self.secret = secrets.token_bytes(32)
        self.raw: dict[str, dict] = {}
        self.apis = {}
        for prefix, name in DESCRIPTIONS.items():
            document = json.loads((SPECIFICATIONS / name).read_text())
            if name == "notifications_webhooks_v1.json":
                # The verification call carries the event as PayPal sent it, but the description
                # marks the event's members read-only (they are, on the event resource), which a
                # request may not write. Only that flag is dropped, and only in this description.
                document = _without_read_only(document)
            self.raw[prefix] = document
            # PayPal's own files do not pass openapi-spec-validator (an e-mail pattern in them is
            # not a valid regular expression there); requests are still checked against them.
            self.apis[prefix] = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))

    def new_id(self, length: int = 17) -> str:
        number = next(self.ids)
        return (f"{number:04d}" + hashlib.sha256(f"{number}{time.time_ns()}".encode()).hexdigest().upper())[:length]

    # Checking a request against the published descriptions ------------------------------------

    def check(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> None:
        from openapi_core.testing import MockRequest

        prefix = next((p for p in DESCRIPTIONS if path.startswith(p)), None)
        if prefix is None:
            raise Violation(f"{method} {path} is in none of PayPal's descriptions")
        request = MockRequest(
            SERVER,
            method.lower(),
            path,
            args=dict(urllib.parse.parse_qsl(query)),
            headers=headers,
            data=body or None,
            content_type=headers.get("Content-Type", "application/json").split(";")[0],
        )
        try:
            self.apis[prefix].validate_request(request)
        except Exception as error:  # noqa: BLE001 - every kind of mismatch is a violation
            cause = error.__cause__
            details = [str(e).splitlines()[0] for e in getattr(cause, "schema_errors", [])]
            raise Violation(f"{method} {path}: {error}" + (f" ({'; '.join(details)})" if details else "")) from None
        if body:
            operation = self._operation(prefix, method.lower(), path)
            schema = (((operation.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get(
                "schema"
            ) or {}
            unknown = self._unknown(prefix, schema, json.loads(body), "body")
            if unknown:
                raise Violation(f"{method} {path}: members PayPal's description does not name: {', '.join(unknown)}")

    def _operation(self, prefix: str, method: str, path: str) -> dict:
        for template, item in self.raw[prefix]["paths"].items():
            pattern = template.strip("/").split("/")
            parts = path.strip("/").split("/")
            if len(pattern) == len(parts) and all(
                p == q or (p.startswith("{") and p.endswith("}")) for p, q in zip(pattern, parts, strict=True)
            ):
                if method in item:
                    return item[method]
        return {}

    def _resolve(self, prefix: str, schema: dict) -> dict:
        while "$ref" in schema:
            node = self.raw[prefix]
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _properties(self, prefix: str, schema: dict) -> tuple[dict, bool]:
        """The members a schema names (through allOf/anyOf/oneOf), and whether it allows others."""
        schema = self._resolve(prefix, schema)
        named = dict(schema.get("properties") or {})
        extra = bool(schema.get("additionalProperties"))
        for key in ("allOf", "anyOf", "oneOf"):
            for member in schema.get(key) or []:
                more, open_ = self._properties(prefix, member)
                for name, value in more.items():
                    named.setdefault(name, value)
                extra = extra or open_
        return named, extra

    def _unknown(self, prefix: str, schema: dict, value, where: str) -> list[str]:
        schema = self._resolve(prefix, schema)
        found = []
        if isinstance(value, dict):
            named, extra = self._properties(prefix, schema)
            if not named and not extra and schema.get("type") != "object":
                return []
            for key, member in value.items():
                if key in named:
                    found += self._unknown(prefix, named[key], member, f"{where}.{key}")
                elif not extra:
                    found.append(f"{where}.{key}")
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                found += self._unknown(prefix, schema["items"], item, f"{where}[{index}]")
        return found


def _without_read_only(node):
    if isinstance(node, dict):
        return {key: _without_read_only(value) for key, value in node.items() if key != "readOnly"}
    if isinstance(node, list):
        return [_without_read_only(value) for value in node]
    return node


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, name: str, issue: str, description: str) -> tuple[int, dict]:
    return status, {
        "name": name,
        "message": description,
        "debug_id": secrets.token_hex(6),
        "details": [{"issue": issue, "description": description}],
    }


ZERO_DECIMALS = {"HUF", "JPY", "TWD"}


def amount_problem(money: dict) -> tuple[int, dict] | None:
    """PayPal's currency rules (not in the schema): decimals per currency, a positive amount."""
    try:
        value = Decimal(money["value"])
    except (InvalidOperation, KeyError):
        return error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "The amount is not a number.")
    digits = 0 if money["currency_code"] in ZERO_DECIMALS else 2
    if value.as_tuple().exponent < -digits or ("." in money["value"] and digits == 0):
        return error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", "The currency does not take these decimals.")
    if value <= 0:
        return error(422, "UNPROCESSABLE_ENTITY", "CANNOT_BE_ZERO_OR_NEGATIVE", "The amount must be positive.")
    return None


class Handler(BaseHTTPRequestHandler):
    books: Books
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    # Plumbing ---------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: dict | str, content_type: str = "application/json", location: str = ""):
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)

    def _lost(self) -> None:
        """Carried out, and the answer never arrives: the connection just closes."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PATCH(self):
        self._route("PATCH")

    def do_DELETE(self):
        self._route("DELETE")

    def _route(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path, query = parts.path, parts.query
        body = self._body()
        books = self.books
        if path.startswith("/_test/"):
            return self._send(*self._test(method, path, body))
        if path == "/checkoutnow":
            return self._approval_page(method, urllib.parse.parse_qs(query).get("token", [""])[0], body)
        if path == "/v1/oauth2/token":
            return self._send(*self._token(method, body))
        if path == "/favicon.ico":
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if not path.startswith(("/v1/", "/v2/")):
            # Not an API call.
            return self._send(404, {"name": "RESOURCE_NOT_FOUND"})
        headers = {name: value for name, value in self.headers.items()}
        try:
            books.check(method, path, query, headers, body)
        except Violation as violation:
            with books.lock:
                books.violations.append({"request": f"{method} {path}", "problem": str(violation)})
            return self._send(*error(400, "INVALID_REQUEST", "INVALID_REQUEST_SYNTAX", str(violation)))
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in books.tokens:
            return self._send(
                401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
            )
        payload = json.loads(body) if body else {}
        self.raw_body = body
        request_id = self.headers.get("PayPal-Request-Id", "")
        operation = self._operation(method, path)
        with books.lock:
            if request_id and (operation, request_id) in books.answered:
                # The same request id answers what it answered the first time (PayPal's idempotency).
                status, answer = books.answered[(operation, request_id)]
            else:
                status, answer = self._api(method, path, payload)
                if request_id and status < 500:
                    books.answered[(operation, request_id)] = (status, answer)
            lose = operation in books.lose
            books.lose.discard(operation)
        if lose:
            return self._lost()
        return self._send(status, answer)

    @staticmethod
    def _operation(method: str, path: str) -> str:
        if path == "/v2/checkout/orders" and method == "POST":
            return "create"
        if path.endswith("/capture"):
            return "capture"
        if path.endswith("/refund"):
            return "refund"
        return f"{method} {path}"

    # OAuth --------------------------------------------------------------------------------------

    def _token(self, method: str, body: bytes) -> tuple[int, dict]:
        books = self.books
        expected = base64.b64encode(f"{PayPalStandIn.CLIENT_ID}:{PayPalStandIn.CLIENT_SECRET}".encode()).decode()
        problems = []
        if method != "POST":
            problems.append("the token is asked for with POST")
        if (self.headers.get("Content-Type") or "").split(";")[0] != "application/x-www-form-urlencoded":
            problems.append("the body is a form (application/x-www-form-urlencoded)")
        if urllib.parse.parse_qs(body.decode()).get("grant_type") != ["client_credentials"]:
            problems.append("grant_type=client_credentials")
        if problems:
            with books.lock:
                books.violations.append({"request": "POST /v1/oauth2/token", "problem": "; ".join(problems)})
            return error(400, "INVALID_REQUEST", "INVALID_REQUEST_SYNTAX", "; ".join(problems))
        if self.headers.get("Authorization") != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = "A21AA" + secrets.token_urlsafe(24)
        with books.lock:
            books.tokens.add(token)
            books.tokens_issued += 1
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-REFILLTEST",
            "expires_in": 32400,
            "nonce": now() + secrets.token_hex(8),
        }

    # The API --------------------------------------------------------------------------------------

    def _links(self, order: dict) -> list[dict]:
        base = f"http://{self.headers.get('Host')}"
        links = [{"href": f"{base}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"}]
        if order["status"] == "PAYER_ACTION_REQUIRED":
            links.append({"href": f"{base}/checkoutnow?token={order['id']}", "rel": "payer-action", "method": "GET"})
        if order["status"] == "APPROVED":
            links.append(
                {"href": f"{base}/v2/checkout/orders/{order['id']}/capture", "rel": "capture", "method": "POST"}
            )
        return links

    def _view(self, order: dict) -> dict:
        shown = {key: value for key, value in order.items() if not key.startswith("_")}
        shown["links"] = self._links(order)
        return json.loads(json.dumps(shown))

    def _api(self, method: str, path: str, payload: dict) -> tuple[int, dict]:
        books = self.books
        segments = path.strip("/").split("/")
        if method == "POST" and path == "/v2/checkout/orders":
            return self._create(payload)
        if segments[:3] == ["v2", "checkout", "orders"] and len(segments) >= 4:
            order = books.orders.get(segments[3])
            if order is None:
                return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "The order does not exist.")
            if method == "GET" and len(segments) == 4:
                return 200, self._view(order)
            if method == "POST" and segments[4:] == ["capture"]:
                return self._capture(order)
        if method == "POST" and segments[:3] == ["v2", "payments", "captures"] and segments[4:] == ["refund"]:
            capture = books.captures.get(segments[3])
            if capture is None:
                return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "The capture does not exist.")
            return self._refund(capture, payload)
        if method == "POST" and path == "/v1/notifications/verify-webhook-signature":
            return self._verify(payload)
        return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Not served by the stand-in.")

    def _create(self, payload: dict) -> tuple[int, dict]:
        if payload["intent"] != "CAPTURE":
            return error(422, "UNPROCESSABLE_ENTITY", "INTENT_NOT_SUPPORTED", "The stand-in captures only.")
        for unit in payload["purchase_units"]:
            problem = amount_problem(unit["amount"])
            if problem:
                return problem
        paypal = (payload.get("payment_source") or {}).get("paypal")
        context = (paypal or {}).get("experience_context") or payload.get("application_context") or {}
        order = {
            "id": self.books.new_id(),
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED" if paypal is not None else "CREATED",
            "payment_source": {"paypal": {}},
            "purchase_units": [
                {**unit, "reference_id": unit.get("reference_id", "default"), "payee": {"merchant_id": "REFILLTEST"}}
                for unit in payload["purchase_units"]
            ],
            "create_time": now(),
            "_context": context,
            "_funding": "",
        }
        self.books.orders[order["id"]] = order
        return 200, self._view(order)

    def _capture(self, order: dict) -> tuple[int, dict]:
        if order["status"] == "COMPLETED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "The order was already captured.")
        if order["status"] != "APPROVED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED", "The buyer has not approved the order.")
        if order["_funding"] == "declined":
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or bank, or it can't be used.",
            )
        unit = order["purchase_units"][0]
        capture = {
            "id": self.books.new_id(),
            "status": "COMPLETED",
            "amount": dict(unit["amount"]),
            "final_capture": True,
            "custom_id": unit.get("custom_id", ""),
            "invoice_id": unit.get("invoice_id", ""),
            "create_time": now(),
            "update_time": now(),
            "_order": order["id"],
            "_refunded": "0",
        }
        self.books.captures[capture["id"]] = capture
        unit["payments"] = {"captures": [capture]}
        order["status"] = "COMPLETED"
        return 201, self._view(order)

    def _refund(self, capture: dict, payload: dict) -> tuple[int, dict]:
        captured, refunded = Decimal(capture["amount"]["value"]), Decimal(capture["_refunded"])
        amount = payload.get("amount") or {"currency_code": capture["amount"]["currency_code"], "value": "0"}
        if "amount" not in payload:
            amount = {**amount, "value": str(captured - refunded)}
        problem = amount_problem(amount)
        if problem:
            return problem
        if amount["currency_code"] != capture["amount"]["currency_code"]:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_CURRENCY_MISMATCH", "Refund in the capture's currency.")
        if refunded >= captured:
            return error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED", "The capture was fully refunded.")
        if refunded + Decimal(amount["value"]) > captured:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED", "More than what is left to refund.")
        refunded += Decimal(amount["value"])
        capture["_refunded"] = str(refunded)
        capture["status"] = "REFUNDED" if refunded == captured else "PARTIALLY_REFUNDED"
        return 201, {
            "id": self.books.new_id(),
            "status": "COMPLETED",
            "amount": amount,
            "invoice_id": payload.get("invoice_id", ""),
            "create_time": now(),
            "links": [],
        }

    # Webhooks -------------------------------------------------------------------------------------

    def _signed_string(self, transmission: dict) -> bytes:
        crc = binascii.crc32(transmission["body"].encode())
        return f"{transmission['id']}|{transmission['time']}|{transmission['webhook_id']}|{crc}".encode()

    def _transmit(self, event: dict) -> dict:
        books = self.books
        body = json.dumps(event, indent=1)  # as PayPal sends it: formatted, not in Refill's key order
        transmission = {
            "id": secrets.token_hex(16),
            "time": now(),
            "webhook_id": PayPalStandIn.WEBHOOK_ID,
            "body": body,
            "event_id": event["id"],
        }
        signature = base64.b64encode(hmac.digest(books.secret, self._signed_string(transmission), "sha256")).decode()
        books.transmissions[transmission["id"]] = {**transmission, "sig": signature}
        base = f"http://{self.headers.get('Host')}"
        return {
            "body": body,
            "headers": {
                "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                "PAYPAL-CERT-URL": f"{base}/v1/notifications/certs/CERT-STANDIN",
                "PAYPAL-TRANSMISSION-ID": transmission["id"],
                "PAYPAL-TRANSMISSION-SIG": signature,
                "PAYPAL-TRANSMISSION-TIME": transmission["time"],
            },
        }

    def _event(self, payload: dict) -> tuple[int, dict]:
        books = self.books
        if "event_id" in payload:
            return 200, self._transmit(books.events[payload["event_id"]])
        order = books.orders[payload["order_id"]]
        capture = ((order["purchase_units"][0].get("payments") or {}).get("captures") or [{}])[0]
        resource = {key: value for key, value in capture.items() if not key.startswith("_")}
        resource.setdefault("custom_id", order["purchase_units"][0].get("custom_id", ""))
        resource["supplementary_data"] = {"related_ids": {"order_id": order["id"]}}
        event = {
            "id": "WH-" + books.new_id(24),
            "event_version": "1.0",
            "create_time": now(),
            "resource_type": "capture",
            "resource_version": "2.0",
            "event_type": payload["event_type"],
            "summary": f"Payment {payload['event_type'].rsplit('.', 1)[-1].lower()}",
            "resource": resource,
            "links": [],
        }
        books.events[event["id"]] = event
        return 200, self._transmit(event)

    def _verify(self, payload: dict) -> tuple[int, dict]:
        transmission = self.books.transmissions.get(payload["transmission_id"])
        ok = (
            transmission is not None
            and payload["webhook_id"] == PayPalStandIn.WEBHOOK_ID
            and payload["transmission_time"] == transmission["time"]
            # The event as it was sent, byte for byte (PayPal checks a CRC32 of what it sent).
            and transmission["body"].encode() in self.raw_body
            and hmac.compare_digest(
                payload["transmission_sig"],
                base64.b64encode(
                    hmac.digest(
                        self.books.secret,
                        self._signed_string({**transmission, "webhook_id": payload["webhook_id"]}),
                        "sha256",
                    )
                ).decode(),
            )
        )
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}

    # Test hooks -------------------------------------------------------------------------------------

    def _test(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        books = self.books
        payload = json.loads(body) if body else {}
        with books.lock:
            if path == "/_test/violations":
                found = list(books.violations)
                if method == "DELETE":
                    books.violations.clear()
                return 200, {"violations": found}
            if path == "/_test/lose-next":
                books.lose.add(payload["operation"])
                return 200, {}
            if path == "/_test/expire-tokens":
                books.tokens.clear()
                return 200, {}
            if path == "/_test/stats":
                captures = [c for c in books.captures.values()]
                return 200, {"tokens_issued": books.tokens_issued, "orders": len(books.orders), "captures": captures}
            if path.startswith("/_test/orders/"):
                # The order as the stand-in keeps it, with what the adapter asked for the buyer's pages.
                order = books.orders.get(path.rsplit("/", 1)[-1])
                return (200, {**self._view(order), "experience_context": order["_context"]}) if order else (404, {})
            if path == "/_test/events":
                return self._event(payload)
        return 404, {}

    # The buyer's page -------------------------------------------------------------------------------

    def _approval_page(self, method: str, order_id: str, body: bytes) -> None:
        books = self.books
        with books.lock:
            order = books.orders.get(order_id)
            if order is None:
                return self._send(404, "<h1>Not found</h1>", "text/html; charset=utf-8")
            context = order["_context"]
            if method == "POST":
                decision = urllib.parse.parse_qs(body.decode()).get("decision", [""])[0]
                waiting = order["status"] in ("PAYER_ACTION_REQUIRED", "CREATED")
                if decision in ("approve", "approve_declined") and waiting:
                    order["status"] = "APPROVED"
                    order["_funding"] = "declined" if decision == "approve_declined" else ""
                    order["payer"] = {"payer_id": "BUYERTEST01", "email_address": "buyer@example.com"}
                    order["payment_source"] = {
                        "paypal": {"email_address": "buyer@example.com", "account_id": "BUYERTEST01"}
                    }
                    back = context.get("return_url", "")
                    query = {"token": order["id"], "PayerID": "BUYERTEST01"}
                elif decision == "cancel" and waiting:
                    back, query = context.get("cancel_url", ""), {"token": order["id"]}
                else:
                    back, query = context.get("return_url", ""), {"token": order["id"]}
                if not back:
                    # No address to go back to (PayPal's own buttons): the page says it is done.
                    return self._send(200, PAGE_TEXT["en"]["done"], "text/plain; charset=utf-8")
                separator = "&" if "?" in back else "?"
                return self._send(302, "", "text/plain", location=back + separator + urllib.parse.urlencode(query))
            waiting = order["status"] in ("PAYER_ACTION_REQUIRED", "CREATED")
            unit = order["purchase_units"][0]
        locale = context.get("locale", "en-US")
        text = PAGE_TEXT["zh" if locale.startswith("zh") else "en"]
        amount = f"{unit['amount']['value']} {unit['amount']['currency_code']}"
        buttons = "".join(
            f'<button name="decision" value="{value}" data-testid="paypal-{value.replace("_", "-")}">'
            f"{html.escape(text[value])}</button>"
            for value in ("approve", "approve_declined", "cancel")
        )
        page = f"""<!doctype html>
<html lang="{html.escape(locale)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(text["title"])}</title>
<style>body{{font-family:sans-serif;margin:1rem}}button{{display:block;width:100%;margin:.5rem 0;padding:.8rem;
font-size:1rem}}</style></head>
<body><main data-testid="paypal-page"><h1>{html.escape(text["title"])}</h1>
<p>{html.escape(text["pay"].format(merchant=unit.get("description", "")))}</p>
<p data-testid="paypal-amount"><strong>{html.escape(amount)}</strong></p>
{
            f'<form method="post" action="/checkoutnow?token={html.escape(order_id)}">{buttons}</form>'
            if waiting
            else f'<p data-testid="paypal-done">{html.escape(text["done"])}</p>'
        }
</main></body></html>"""
        self._send(200, page, "text/html; charset=utf-8")


def _serve(port: int) -> None:
    Handler.books = Books()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    # openapi-core warns that it does not check OAuth 2.0 itself; the stand-in checks the token.
    warnings.filterwarnings("ignore", message="Unsupported scheme type")
    _serve(int(sys.argv[1]))
