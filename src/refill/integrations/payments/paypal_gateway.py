"""The PayPal adapter: PayPal's own REST API (Orders v2, Payments v2, Webhooks v1), no SDK.

A payment is an order the buyer approves on PayPal's page and Refill then captures:

1. ``charge`` creates the order (intent CAPTURE) with Refill's idempotency key as the
   ``PayPal-Request-Id`` (a retried create answers the same order) and as the purchase unit's
   ``custom_id`` and ``invoice_id``; the order id is handed to ``on_reference`` and the buyer is sent
   to the approval link (``requires_action``), with Refill's return address for both ways back.
2. Back on Refill (or when reconciliation asks), ``fetch`` reads the order and captures an
   APPROVED one, with a request id derived from the key, so a capture that is asked twice (a lost
   answer, two tabs) captures once.
3. Refunds go to the capture (``/v2/payments/captures/{id}/refund``), whole or partial, once per
   key; webhooks are verified by asking PayPal (``/v1/notifications/verify-webhook-signature``).

Nothing money-moving happens without Refill's capture call, so an order nobody captures charges
nobody: that is how ``cancel`` gives up on an attempt. The standard library's HTTP client is used
(TLS verified by the default context, a timeout on every call); a call that does not answer is
raised, never taken as a failure, and reconciliation asks again.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from ipaddress import ip_address

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from refill.domain.money import minor_units

from .base import (
    Capabilities,
    Capability,
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    PaymentToken,
    RefundRequest,
    RefundResult,
    SavedMethod,
    TokenizationError,
    WebhookEvent,
    WebhookInvalid,
)

WALLET = "paypal"
LIVE_API = "https://api-m.paypal.com"
SANDBOX_API = "https://api-m.sandbox.paypal.com"

# PayPal takes no decimals for these, although ISO 4217 gives HUF and TWD two
# (https://developer.paypal.com/api/rest/reference/currency-codes/).
NO_DECIMALS = {"HUF", "JPY", "TWD"}

# The "issue" codes of PayPal's 422 answers onto Refill's reasons (unknown ones are do_not_honour).
DECLINES: dict[str, DeclineCode] = {
    "INSTRUMENT_DECLINED": DeclineCode.DO_NOT_HONOUR,
    "TRANSACTION_REFUSED": DeclineCode.DO_NOT_HONOUR,
    "PAYER_CANNOT_PAY": DeclineCode.DO_NOT_HONOUR,
    "PAYEE_BLOCKED_TRANSACTION": DeclineCode.DO_NOT_HONOUR,
    "COMPLIANCE_VIOLATION": DeclineCode.DO_NOT_HONOUR,
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": DeclineCode.OVER_LIMIT,
    "TRANSACTION_LIMIT_EXCEEDED": DeclineCode.OVER_LIMIT,
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED": DeclineCode.CARD_FROZEN,
    "PAYER_ACCOUNT_RESTRICTED": DeclineCode.CARD_FROZEN,
    "ORDER_EXPIRED": DeclineCode.AUTHENTICATION_FAILED,
    "CURRENCY_NOT_SUPPORTED": DeclineCode.INVALID_CARD,
}

# PayPal's webhook event types onto the ones Refill acts on; any other is stored and ignored.
EVENT_TYPES = {
    "PAYMENT.CAPTURE.COMPLETED": "charge.succeeded",
    "PAYMENT.CAPTURE.DENIED": "charge.failed",
    "PAYMENT.CAPTURE.DECLINED": "charge.failed",
    "PAYMENT.CAPTURE.REFUNDED": "charge.refunded",
    "PAYMENT.CAPTURE.REVERSED": "charge.refunded",
}

# Order states in which the buyer has not approved yet (Orders v2 ``status``).
WAITING = {"CREATED", "SAVED", "PAYER_ACTION_REQUIRED"}

# The query parameter PayPal's cancel address carries back to Refill's return page.
CANCELLED_PARAMETER = "cancelled"

# Refill's languages as the five-character locales PayPal's pages take.
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}


class PayPalError(Exception):
    """PayPal answered with an error: ``status`` and its ``name`` and first ``issue``."""

    def __init__(self, status: int, body: dict) -> None:
        details = body.get("details") or [{}]
        self.status = status
        self.name = str(body.get("name") or body.get("error") or "")
        self.issue = str((details[0] or {}).get("issue", "")) if isinstance(details, list) else ""
        super().__init__(f"PayPal answered {status} {self.name} {self.issue}".strip())


def paypal_value(amount: Decimal, currency: str) -> str:
    """The amount as PayPal writes it for ``currency``: its minor units (none for HUF, JPY and
    TWD). Raises ValueError for an amount that cannot be written so (a fraction of a yen)."""
    digits = 0 if currency.upper() in NO_DECIMALS else minor_units(currency.upper())
    value = amount.quantize(Decimal(1).scaleb(-digits))
    if value != amount or value <= 0:
        raise ValueError(f"{amount} {currency} cannot be charged through PayPal")
    return f"{value:f}"


def with_parameter(url: str, name: str, value: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + [(name, value)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


class PayPalGateway:
    name = "paypal"
    # PayPal wallets only: no card is typed into Refill, nothing is saved (PayPal's vault is not
    # used), so nothing can be charged without the buyer: no off-session renewals.
    capabilities = Capabilities(
        features=frozenset({Capability.REFUNDS, Capability.PARTIAL_REFUNDS, Capability.WEBHOOKS}),
        wallets=(WALLET,),
    )
    # Refresh the access token this long before PayPal says it expires.
    TOKEN_MARGIN_SECONDS = 60

    def __init__(
        self, *, client_id: str, client_secret: str, webhook_id: str, api_base: str = LIVE_API, timeout: float = 30
    ) -> None:
        parts = urllib.parse.urlsplit(api_base)
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname or "")):
            # Keys and money over plain HTTP only to a stand-in on this machine.
            raise ImproperlyConfigured("REFILL_PAYPAL_API_BASE must be an https:// address")
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._tls = ssl.create_default_context()
        self._token_lock = threading.Lock()
        self._token = ""
        self._token_expires = 0.0

    @classmethod
    def from_settings(cls) -> PayPalGateway:
        needed = ("REFILL_PAYPAL_CLIENT_ID", "REFILL_PAYPAL_CLIENT_SECRET", "REFILL_PAYPAL_WEBHOOK_ID")
        if not all(getattr(settings, name) for name in needed):
            raise ImproperlyConfigured(f"{', '.join(needed)} must be set for the PayPal adapter")
        return cls(
            client_id=settings.REFILL_PAYPAL_CLIENT_ID,
            client_secret=settings.REFILL_PAYPAL_CLIENT_SECRET,
            webhook_id=settings.REFILL_PAYPAL_WEBHOOK_ID,
            api_base=settings.REFILL_PAYPAL_API_BASE or LIVE_API,
            timeout=settings.REFILL_PAYPAL_TIMEOUT,
        )

    # HTTP ---------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, body: bytes | None, headers: dict[str, str]) -> tuple[int, dict]:
        request = urllib.request.Request(self.api_base + path, data=body, method=method, headers=headers)
        context = self._tls if self.api_base.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return status, data if isinstance(data, dict) else {}

    def _access_token(self, *, renew: bool = False) -> str:
        """An OAuth 2.0 client-credentials token, kept until shortly before it expires."""
        with self._token_lock:
            if renew or not self._token or time.monotonic() >= self._token_expires:
                basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
                status, data = self._send(
                    "POST",
                    "/v1/oauth2/token",
                    body=b"grant_type=client_credentials",
                    headers={
                        "Authorization": f"Basic {basic}",
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/json",
                    },
                )
                if status != 200 or not data.get("access_token"):
                    raise PayPalError(status, data)
                lifetime = float(data.get("expires_in") or 0)
                self._token = str(data["access_token"])
                self._token_expires = time.monotonic() + max(0.0, lifetime - self.TOKEN_MARGIN_SECONDS)
            return self._token

    def _call(
        self, method: str, path: str, payload: dict | bytes | None = None, *, request_id: str = "", full: bool = False
    ) -> dict:
        """One API call; PayPal's error answers raise PayPalError, a call that does not answer
        raises what the network raised. A token PayPal no longer accepts is renewed once (the same
        ``PayPal-Request-Id`` makes the second try the same request)."""
        body = (
            payload if isinstance(payload, bytes) else (json.dumps(payload).encode() if payload is not None else None)
        )
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self._access_token(renew=attempt == 2)}",
                # PayPal's description marks Content-Type as required on every Orders call.
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            if full:
                # The whole order in the answer, not just its id, status and links.
                headers["Prefer"] = "return=representation"
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            status, data = self._send(method, path, body=body, headers=headers)
            if status == 401 and attempt == 1:
                continue
            if status >= 400:
                raise PayPalError(status, data)
            return data
        raise AssertionError("unreachable")

    # Tokens: PayPal wallets only --------------------------------------------------------------

    def tokenize(self, card: CardDetails) -> PaymentToken:
        """Not offered (no ``server_tokenisation``): PayPal takes no typed cards from Refill."""
        raise TokenizationError(DeclineCode.INVALID_CARD, "the PayPal adapter takes no card details")

    def tokenize_wallet(self, method: str) -> PaymentToken:
        if method != WALLET:
            raise TokenizationError(DeclineCode.INVALID_CARD, f"payment method {method!r} is not PayPal")
        # Nothing to tokenise: the buyer chooses how to pay on PayPal's own page.
        return PaymentToken(token=WALLET, brand=WALLET, last4="", exp_month=0, exp_year=0)

    def save_method(
        self, token: PaymentToken, *, customer_reference: str, email: str, idempotency_key: str
    ) -> SavedMethod:
        """Not offered (no ``saved_methods``): PayPal's vault is not used."""
        raise TokenizationError(DeclineCode.INVALID_CARD, "the PayPal adapter saves no payment methods")

    # Charging ---------------------------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.token != WALLET:
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.INVALID_CARD)
        if request.off_session:
            # Only the buyer can approve a PayPal order.
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.AUTHENTICATION_FAILED)
        try:
            value = paypal_value(request.amount, request.currency)
        except ValueError:
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.INVALID_CARD)
        unit: dict = {
            "reference_id": "default",
            "custom_id": request.idempotency_key[:127],
            "invoice_id": request.idempotency_key[:127],
            "amount": {"currency_code": request.currency.upper(), "value": value},
        }
        if request.description:
            unit["description"] = request.description[:127]
        experience: dict = {"shipping_preference": "NO_SHIPPING", "user_action": "PAY_NOW"}
        locale = LOCALES.get(translation.get_language() or "")
        if locale:
            experience["locale"] = locale
        if request.return_url:
            experience["return_url"] = request.return_url
            experience["cancel_url"] = with_parameter(request.return_url, CANCELLED_PARAMETER, "1")
        order_request = {
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": {"experience_context": experience}},
        }
        try:
            order = self._call(
                "POST", "/v2/checkout/orders", order_request, request_id=request.idempotency_key, full=True
            )
        except PayPalError as error:
            if error.status >= 500 or error.status in (401, 403):
                # PayPal's trouble, or credentials it refuses (the operator's to fix): not a decline.
                raise
            # Refused before any order existed: nothing can be charged.
            return ChargeResult(ChargeStatus.FAILED, decline_code=DECLINES.get(error.issue, DeclineCode.DO_NOT_HONOUR))
        if request.on_reference is not None:
            request.on_reference(str(order["id"]))
        return self._result(order, request.idempotency_key)

    @staticmethod
    def _link(order: dict, *relations: str) -> str:
        for link in order.get("links") or []:
            if link.get("rel") in relations:
                return str(link.get("href", ""))
        return ""

    @staticmethod
    def _capture(order: dict) -> dict:
        for unit in order.get("purchase_units") or []:
            for capture in (unit.get("payments") or {}).get("captures") or []:
                return capture
        return {}

    def _result(self, order: dict, idempotency_key: str, *, capture: bool = True) -> ChargeResult:
        """What an order means for the attempt; an APPROVED one is captured first (``capture``)."""
        reference, status = str(order.get("id", "")), order.get("status")
        if status in WAITING:
            return ChargeResult(
                ChargeStatus.REQUIRES_ACTION,
                provider_reference=reference,
                next_url=self._link(order, "payer-action", "approve"),
            )
        if status == "APPROVED" and capture:
            try:
                order = self._call(
                    "POST",
                    f"/v2/checkout/orders/{reference}/capture",
                    {},
                    request_id=f"{idempotency_key}:capture",
                    full=True,
                )
            except PayPalError as error:
                if error.issue == "ORDER_ALREADY_CAPTURED":
                    return self._result(self._order(reference), idempotency_key, capture=False)
                if error.issue == "ORDER_NOT_APPROVED":
                    return ChargeResult(ChargeStatus.REQUIRES_ACTION, provider_reference=reference)
                if error.status >= 500 or error.status == 409:
                    raise
                decline = DECLINES.get(error.issue, DeclineCode.DO_NOT_HONOUR)
                return ChargeResult(ChargeStatus.FAILED, provider_reference=reference, decline_code=decline)
            return self._result(order, idempotency_key, capture=False)
        if status == "COMPLETED":
            captured = self._capture(order).get("status")
            if captured in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
                return ChargeResult(ChargeStatus.SUCCEEDED, provider_reference=reference)
            if captured == "PENDING":
                # PayPal holds the money for review; its webhook (or a later fetch) settles it.
                return ChargeResult(ChargeStatus.UNKNOWN, provider_reference=reference)
            return ChargeResult(
                ChargeStatus.FAILED, provider_reference=reference, decline_code=DeclineCode.DO_NOT_HONOUR
            )
        if status == "VOIDED":
            return ChargeResult(
                ChargeStatus.FAILED, provider_reference=reference, decline_code=DeclineCode.AUTHENTICATION_FAILED
            )
        # APPROVED and not to be captured now, or a state PayPal adds later: ask again later.
        return ChargeResult(ChargeStatus.UNKNOWN, provider_reference=reference)

    def _order(self, reference: str) -> dict:
        return self._call("GET", f"/v2/checkout/orders/{urllib.parse.quote(reference, safe='')}")

    def fetch(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult:
        """How the attempt stands at PayPal; an order the buyer approved is captured now (once:
        the capture's request id is the key's). Without a reference, the answer to the create
        was lost: nobody got the approval link and Refill never captured, so nothing was charged."""
        if not provider_reference:
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.NETWORK_ERROR)
        try:
            order = self._order(provider_reference)
        except PayPalError as error:
            if error.status == 404:
                return ChargeResult(
                    ChargeStatus.FAILED, provider_reference=provider_reference, decline_code=DeclineCode.NETWORK_ERROR
                )
            raise
        return self._result(order, idempotency_key)

    def cancel(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult:
        """Give up on an order: Refill will not capture it, and an order nobody captures moves no
        money (PayPal lets it expire; Orders v2 has no call to void one). An order captured in the
        meantime keeps its result."""
        if not provider_reference:
            return self.fetch(idempotency_key, provider_reference)
        order = self._order(provider_reference)
        if order.get("status") in ("COMPLETED", "VOIDED"):
            return self._result(order, idempotency_key, capture=False)
        # Waiting for the buyer, or approved and never captured: nothing moved, nothing will.
        return ChargeResult(
            ChargeStatus.FAILED, provider_reference=provider_reference, decline_code=DeclineCode.AUTHENTICATION_FAILED
        )

    # Refunds ----------------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of the order's capture, once per key (``PayPal-Request-Id``)."""
        try:
            capture = self._capture(self._order(request.provider_reference))
            if not capture.get("id"):
                return RefundResult(ChargeStatus.FAILED)
            refund = self._call(
                "POST",
                f"/v2/payments/captures/{urllib.parse.quote(str(capture['id']), safe='')}/refund",
                {
                    "amount": {
                        "currency_code": request.currency.upper(),
                        "value": paypal_value(request.amount, request.currency),
                    },
                    "invoice_id": request.idempotency_key[:127],
                },
                request_id=request.idempotency_key,
            )
        except ValueError:
            return RefundResult(ChargeStatus.FAILED)
        except PayPalError as error:
            if error.status >= 500:
                raise
            return RefundResult(ChargeStatus.FAILED)
        status = {"COMPLETED": ChargeStatus.SUCCEEDED, "PENDING": ChargeStatus.UNKNOWN}.get(
            refund.get("status"), ChargeStatus.FAILED
        )
        return RefundResult(status, provider_reference=str(refund.get("id", "")))

    # Webhooks ---------------------------------------------------------------------------------

    TRANSMISSION_HEADERS = {
        "auth_algo": "paypal-auth-algo",
        "cert_url": "paypal-cert-url",
        "transmission_id": "paypal-transmission-id",
        "transmission_sig": "paypal-transmission-sig",
        "transmission_time": "paypal-transmission-time",
    }

    def verify_webhook(self, body: bytes, headers: dict[str, str]) -> None:
        """Ask PayPal whether it sent this notification to our webhook (PayPal's verification
        call, with the transmission headers and our webhook id). The event goes into the request
        exactly as it arrived: PayPal signs the bytes it sent, so re-encoded JSON could fail."""
        given = {name.lower(): value for name, value in headers.items()}
        fields = {}
        for field, header in self.TRANSMISSION_HEADERS.items():
            if not given.get(header):
                raise WebhookInvalid(f"missing {header} header")
            fields[field] = given[header]
        fields["webhook_id"] = self.webhook_id
        try:
            json.loads(body)
        except ValueError:
            raise WebhookInvalid("malformed body") from None
        request = json.dumps(fields)[:-1].encode() + b', "webhook_event": ' + body.strip() + b"}"
        try:
            answer = self._call("POST", "/v1/notifications/verify-webhook-signature", request)
        except (PayPalError, OSError) as error:
            # PayPal delivers again later when the answer is not 2xx.
            raise WebhookInvalid(f"could not verify with PayPal: {error}") from None
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookInvalid("PayPal did not verify this notification")

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        self.verify_webhook(body, headers)
        try:
            data = json.loads(body)
            resource = data.get("resource") or {}
            raw_type = str(data["event_type"])
            event_type = EVENT_TYPES.get(raw_type, raw_type)
            capture = raw_type.startswith("PAYMENT.CAPTURE.")
            related = ((resource.get("supplementary_data") or {}).get("related_ids") or {}) if capture else {}
            return WebhookEvent(
                event_id=str(data["id"]),
                type=event_type,
                idempotency_key=str(resource.get("custom_id", "")) if capture else "",
                provider_reference=str(related.get("order_id", "")),
                decline_code=str(DeclineCode.DO_NOT_HONOUR) if event_type == "charge.failed" else "",
                payload=data,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookInvalid("malformed body") from None
