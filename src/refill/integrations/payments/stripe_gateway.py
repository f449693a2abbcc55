"""The Stripe adapter: PaymentIntents for charges, SetupIntents to save a card for off-session use,
Refunds, and signed webhooks. Configured from the environment (docs/payments.md).

A charge is made in two calls so that its reference is known before any money can move: the
PaymentIntent is created (with Refill's idempotency key, and the key again in its metadata), the
reference is handed to ``on_reference`` to be recorded, and only then is the intent confirmed. An
answer lost after that is looked up by reference (``fetch``); one lost while creating leaves an
unconfirmed intent, which never charges.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from refill.domain.money import minor_units

from .base import (
    BrowserCard,
    BrowserSetup,
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
    verify_signed_payload,
)

# Stripe's decline and error codes (https://docs.stripe.com/declines/codes) onto Refill's reasons.
DECLINES: dict[str, DeclineCode] = {
    "insufficient_funds": DeclineCode.INSUFFICIENT_FUNDS,
    "card_velocity_exceeded": DeclineCode.OVER_LIMIT,
    "withdrawal_count_limit_exceeded": DeclineCode.OVER_LIMIT,
    "lost_card": DeclineCode.CARD_FROZEN,
    "stolen_card": DeclineCode.CARD_FROZEN,
    "pickup_card": DeclineCode.CARD_FROZEN,
    "restricted_card": DeclineCode.CARD_FROZEN,
    "security_violation": DeclineCode.CARD_FROZEN,
    "expired_card": DeclineCode.EXPIRED_CARD,
    "invalid_expiry_month": DeclineCode.INVALID_CARD,
    "invalid_expiry_year": DeclineCode.INVALID_CARD,
    "incorrect_cvc": DeclineCode.INCORRECT_CVC,
    "invalid_cvc": DeclineCode.INCORRECT_CVC,
    "incorrect_number": DeclineCode.INVALID_CARD,
    "invalid_number": DeclineCode.INVALID_CARD,
    "processing_error": DeclineCode.NETWORK_ERROR,
    "try_again_later": DeclineCode.NETWORK_ERROR,
    "authentication_required": DeclineCode.AUTHENTICATION_FAILED,
    "payment_intent_authentication_failure": DeclineCode.AUTHENTICATION_FAILED,
    "setup_intent_authentication_failure": DeclineCode.AUTHENTICATION_FAILED,
    # Alipay and WeChat Pay: the customer refused or abandoned the payment in the app, or its QR
    # code ran out before anyone paid (customers see "not completed in Alipay/WeChat Pay").
    "payment_intent_payment_attempt_failed": DeclineCode.DO_NOT_HONOUR,
    "payment_intent_payment_attempt_expired": DeclineCode.AUTHENTICATION_FAILED,
}

# Stripe event types onto the two Refill acts on; anything else is stored and ignored.
EVENT_TYPES = {
    "payment_intent.succeeded": "charge.succeeded",
    "payment_intent.payment_failed": "charge.failed",
    "payment_intent.canceled": "charge.failed",
}

METADATA_KEY = "refill_key"

# The provider wallets taken through Stripe's PaymentIntents (payment_method_types). Their token is
# no provider object: the method is named at confirmation (payment_method_data), never saved.
WALLETS = ("alipay", "wechat_pay")
WALLET_TOKEN_PREFIX = "wallet:"

# Stripe.js and what it needs besides its own origin (https://docs.stripe.com/security/guide#content-security-policy):
# the frames of its card fields and of the bank's 3-D Secure step, and the API it calls.
STRIPE_JS_URL = "https://js.stripe.com/v3/"
STRIPE_FRAME_ORIGINS = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")
STRIPE_API = "https://api.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def decline_for(error: dict | None) -> DeclineCode:
    """The normalised reason for a Stripe error object (``last_payment_error`` or an API error)."""
    error = error or {}
    for code in (error.get("decline_code"), error.get("code")):
        if code in DECLINES:
            return DECLINES[code]
    return DeclineCode.DO_NOT_HONOUR


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)).to_integral_exact())


class StripeGateway:
    name = "stripe"
    TOLERANCE_SECONDS = 300
    # Cards are typed into Stripe's own card field (Stripe.js) and reach Refill as a ``pm_…``
    # reference only: the number never touches Refill (PCI SAQ A). Typed card details posted to
    # Refill are refused (no ``server_tokenisation``): Stripe allows raw card numbers on its API only
    # to SAQ D merchants. Without a publishable key the page cannot show Stripe's card field, so the
    # adapter then takes no cards at all (``browser_tokenisation`` is left out; see ``__init__``).
    # Alipay and WeChat Pay are PaymentIntents too (Alipay by redirect and return, WeChat Pay as a
    # QR code Refill shows on its own page): ``wallets``.
    capabilities = Capabilities(
        features=frozenset(
            {
                Capability.BROWSER_TOKENISATION,
                Capability.SAVED_METHODS,
                Capability.OFF_SESSION,
                Capability.THREE_D_SECURE,
                Capability.REFUNDS,
                Capability.PARTIAL_REFUNDS,
                Capability.WEBHOOKS,
            }
        ),
        wallets=WALLETS,
    )

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str = "",
        timeout: float = 30,
        publishable_key: str = "",
        js_url: str = STRIPE_JS_URL,
        country: str = "US",
    ) -> None:
        # No usage reports to Stripe beyond the API calls themselves.
        stripe.enable_telemetry = False
        self._stripe = stripe
        self.webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.js_url = js_url or STRIPE_JS_URL
        self.country = country.upper()
        self.api_origin = _origin(api_base) if api_base else STRIPE_API
        if not publishable_key:
            declared = self.capabilities
            self.capabilities = Capabilities(
                features=declared.features - {Capability.BROWSER_TOKENISATION}, wallets=declared.wallets
            )
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            # Refill decides about retries itself: a lost answer is looked up, never resent blindly.
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    @classmethod
    def from_settings(cls) -> StripeGateway:
        if not settings.REFILL_STRIPE_SECRET_KEY or not settings.REFILL_STRIPE_WEBHOOK_SECRET:
            raise ImproperlyConfigured("REFILL_STRIPE_SECRET_KEY and REFILL_STRIPE_WEBHOOK_SECRET must be set")
        return cls(
            secret_key=settings.REFILL_STRIPE_SECRET_KEY,
            webhook_secret=settings.REFILL_STRIPE_WEBHOOK_SECRET,
            api_base=settings.REFILL_STRIPE_API_BASE,
            timeout=settings.REFILL_STRIPE_TIMEOUT,
            publishable_key=settings.REFILL_STRIPE_PUBLISHABLE_KEY,
            js_url=settings.REFILL_STRIPE_JS_URL,
            country=settings.REFILL_STRIPE_COUNTRY,
        )

    # Saving and tokenising -------------------------------------------------------------------

    def tokenize(self, card: CardDetails) -> PaymentToken:
        """Refused: a card number is never sent from Refill's server to Stripe (that needs PCI SAQ D
        and Stripe's permission for raw card data). Cards are taken by Stripe.js in the browser
        (``tokenize_browser``); Refill does not declare ``server_tokenisation`` for Stripe, so the
        payments services refuse typed cards before this is reached."""
        raise TokenizationError(DeclineCode.INVALID_CARD, "Stripe takes cards only in Stripe.js, in the browser")

    def browser_setup(self) -> BrowserSetup:
        """Stripe.js with the publishable key, and the origins the page's policy must allow for it."""
        script_origin = _origin(self.js_url)
        # A stand-in script (tests) opens no frames of its own origin's kind; listing it is harmless.
        frames = tuple(dict.fromkeys((script_origin, *STRIPE_FRAME_ORIGINS)))
        return BrowserSetup(
            provider=self.name,
            script_url=self.js_url,
            public_key=self.publishable_key,
            script_origins=(script_origin,),
            frame_origins=frames,
            connect_origins=(self.api_origin,),
            country=self.country,
        )

    def tokenize_browser(self, card: BrowserCard) -> PaymentToken:
        """The PaymentMethod Stripe.js made in the browser, as Stripe describes it: only a card that
        exists at Stripe under this account is taken, with the brand, last 4 and expiry Stripe
        reports (nothing the browser says about the card is believed)."""
        reference = card.reference.strip()
        if not reference.startswith("pm_") or not reference[3:].replace("_", "").isalnum():
            raise TokenizationError(DeclineCode.INVALID_CARD, "not a Stripe PaymentMethod reference")
        try:
            method = self.client.v1.payment_methods.retrieve(reference)
        except self._stripe.InvalidRequestError as exc:
            raise TokenizationError(DeclineCode.INVALID_CARD, str(exc)) from None
        if method.type != "card" or method.card is None:
            raise TokenizationError(DeclineCode.INVALID_CARD, f"payment method is a {method.type}, not a card")
        return PaymentToken(
            token=method.id,
            brand=str(method.card.brand).lower(),
            last4=method.card.last4,
            exp_month=int(method.card.exp_month),
            exp_year=int(method.card.exp_year),
        )

    def browser_action(self, idempotency_key: str, provider_reference: str = "") -> str:
        """The intent's client secret when the bank's step is to be carried out by Stripe.js in the
        page (``next_action`` ``use_stripe_sdk``); "" when the intent waits for a redirect (Stripe
        then gave ``redirect_to_url``, which the customer is sent to) or for nothing."""
        if not provider_reference:
            return ""
        data = self.client.v1.payment_intents.retrieve(provider_reference).to_dict()
        if data.get("status") != "requires_action":
            return ""
        if (data.get("next_action") or {}).get("type") != "use_stripe_sdk":
            return ""
        return str(data.get("client_secret") or "")

    def tokenize_wallet(self, method: str) -> PaymentToken:
        """Alipay or WeChat Pay: nothing to create at Stripe yet (the PaymentIntent names the
        method when it is confirmed), so the token only says which."""
        if method not in WALLETS:
            raise TokenizationError(DeclineCode.INVALID_CARD, f"{method!r} is not taken through Stripe")
        return PaymentToken(token=f"{WALLET_TOKEN_PREFIX}{method}", brand=method, last4="", exp_month=0, exp_year=0)

    def save_method(
        self, token: PaymentToken, *, customer_reference: str, email: str, idempotency_key: str
    ) -> SavedMethod:
        """Attach the method to a Stripe customer through a SetupIntent for off-session use, so
        that auto-renew can charge it later without the customer present."""
        try:
            if not customer_reference:
                customer = self.client.v1.customers.create(
                    {"email": email} if email else {}, {"idempotency_key": f"{idempotency_key}:customer"}
                )
                customer_reference = customer.id
            intent = self.client.v1.setup_intents.create(
                {"customer": customer_reference, "usage": "off_session", "payment_method_types": ["card"]},
                {"idempotency_key": f"{idempotency_key}:setup"},
            )
            intent = self.client.v1.setup_intents.confirm(
                intent.id, {"payment_method": token.token}, {"idempotency_key": f"{idempotency_key}:confirm"}
            )
        except self._stripe.CardError as exc:
            raise TokenizationError(decline_for((exc.json_body or {}).get("error")), str(exc)) from None
        except self._stripe.InvalidRequestError as exc:
            raise TokenizationError(DeclineCode.INVALID_CARD, str(exc)) from None
        if intent.status != "succeeded":
            # The bank wants the customer to confirm saving the card (3-D Secure); that step is
            # only offered while paying, so the card can be used to pay but is not saved.
            raise TokenizationError(DeclineCode.AUTHENTICATION_FAILED, f"setup intent is {intent.status}")
        return SavedMethod(token=token.token, customer_reference=customer_reference)

    # Charging ----------------------------------------------------------------------------------

    @staticmethod
    def _result(intent) -> ChargeResult:
        data = intent.to_dict()
        status, reference = data.get("status"), data.get("id", "")
        if status == "succeeded":
            return ChargeResult(ChargeStatus.SUCCEEDED, provider_reference=reference)
        if status == "requires_action":
            action = data.get("next_action") or {}
            # 3-D Secure and other redirects, or Alipay's own redirect to its cashier page.
            url = (action.get("redirect_to_url") or action.get("alipay_handle_redirect") or {}).get("url") or ""
            # WeChat Pay: a QR code for the customer to scan with WeChat; its data is WeChat's own
            # weixin:// link, which opens the app on a phone that has it.
            qr = (action.get("wechat_pay_display_qr_code") or {}).get("data") or ""
            return ChargeResult(
                ChargeStatus.REQUIRES_ACTION,
                provider_reference=reference,
                next_url=url,
                qr_code=qr,
                app_url=qr if qr.startswith("weixin://") else "",
            )
        if status in ("requires_payment_method", "canceled"):
            error = data.get("last_payment_error")
            decline = decline_for(error) if error else DeclineCode.AUTHENTICATION_FAILED
            return ChargeResult(ChargeStatus.FAILED, provider_reference=reference, decline_code=decline)
        # processing, requires_confirmation, requires_capture: not settled yet; ask again later.
        return ChargeResult(ChargeStatus.UNKNOWN, provider_reference=reference)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.token.startswith(WALLET_TOKEN_PREFIX):
            return self._charge_wallet(request, request.token.removeprefix(WALLET_TOKEN_PREFIX))
        create: dict = {
            "amount": to_minor(request.amount, request.currency),
            "currency": request.currency.lower(),
            "payment_method": request.token,
            "payment_method_types": ["card"],
            "metadata": {METADATA_KEY: request.idempotency_key, "description": request.description},
        }
        if request.customer_reference:
            create["customer"] = request.customer_reference
        try:
            intent = self.client.v1.payment_intents.create(create, {"idempotency_key": request.idempotency_key})
        except self._stripe.CardError as exc:
            return ChargeResult(ChargeStatus.FAILED, decline_code=decline_for((exc.json_body or {}).get("error")))
        except self._stripe.InvalidRequestError:
            # Refused before anything existed (bad or foreign token): nothing can be charged.
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.INVALID_CARD)
        if request.on_reference is not None:
            request.on_reference(intent.id)
        confirm: dict = {}
        if request.return_url:
            confirm["return_url"] = request.return_url
        if request.off_session:
            confirm["off_session"] = True
        try:
            intent = self.client.v1.payment_intents.confirm(
                intent.id, confirm, {"idempotency_key": f"{request.idempotency_key}:confirm"}
            )
        except self._stripe.CardError as exc:
            error = (exc.json_body or {}).get("error") or {}
            return ChargeResult(ChargeStatus.FAILED, provider_reference=intent.id, decline_code=decline_for(error))
        result = self._result(intent)
        if result.status == ChargeStatus.REQUIRES_ACTION and not result.next_url:
            # Confirmed with a return_url, Stripe answers with a redirect to the bank's page. Without
            # one (Stripe.js flows, localstripe) the return page waits for the outcome instead.
            return replace(result, next_url=request.return_url)
        return result

    def _charge_wallet(self, request: ChargeRequest, method: str) -> ChargeResult:
        """Alipay or WeChat Pay as a PaymentIntent of that one method: created with Refill's key,
        its reference recorded, then confirmed with the method (Alipay needs the return address;
        WeChat Pay is paid from a web page by scanning its QR code). The answer is always
        ``requires_action``: the customer pays in the app."""
        if method not in WALLETS or request.off_session:
            # Neither wallet can be charged with nobody there (and neither is ever saved).
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.INVALID_CARD)
        create: dict = {
            "amount": to_minor(request.amount, request.currency),
            "currency": request.currency.lower(),
            "payment_method_types": [method],
            "metadata": {METADATA_KEY: request.idempotency_key, "description": request.description},
        }
        try:
            intent = self.client.v1.payment_intents.create(create, {"idempotency_key": request.idempotency_key})
        except self._stripe.InvalidRequestError:
            # Refused before anything existed (the method is not enabled for this account or currency).
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.INVALID_CARD)
        if request.on_reference is not None:
            request.on_reference(intent.id)
        confirm: dict = {"payment_method_data": {"type": method}}
        if request.return_url:
            confirm["return_url"] = request.return_url
        if method == "wechat_pay":
            confirm["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        try:
            intent = self.client.v1.payment_intents.confirm(
                intent.id, confirm, {"idempotency_key": f"{request.idempotency_key}:confirm"}
            )
        except (self._stripe.CardError, self._stripe.InvalidRequestError) as exc:
            error = (exc.json_body or {}).get("error") or {}
            return ChargeResult(ChargeStatus.FAILED, provider_reference=intent.id, decline_code=decline_for(error))
        result = self._result(intent)
        if result.status == ChargeStatus.REQUIRES_ACTION and not result.next_url:
            # WeChat Pay: Refill shows the QR code at its return address, which follows the payment.
            return replace(result, next_url=request.return_url)
        return result

    def fetch(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult:
        if not provider_reference:
            # The intent was never confirmed (its reference would have been recorded first).
            return ChargeResult(ChargeStatus.FAILED, decline_code=DeclineCode.NETWORK_ERROR)
        return self._result(self.client.v1.payment_intents.retrieve(provider_reference))

    def cancel(self, idempotency_key: str, provider_reference: str = "") -> ChargeResult:
        """Give up on an intent still waiting for the customer's bank. One that settled in the
        meantime keeps its result."""
        if not provider_reference:
            return self.fetch(idempotency_key, provider_reference)
        intent = self.client.v1.payment_intents.retrieve(provider_reference)
        if intent.status in ("requires_action", "requires_confirmation", "requires_payment_method"):
            intent = self.client.v1.payment_intents.cancel(provider_reference)
        return self._result(intent)

    def refund(self, request: RefundRequest) -> RefundResult:
        try:
            refund = self.client.v1.refunds.create(
                {
                    "payment_intent": request.provider_reference,
                    "amount": to_minor(request.amount, request.currency),
                },
                {"idempotency_key": request.idempotency_key},
            )
        except self._stripe.InvalidRequestError:
            return RefundResult(ChargeStatus.FAILED)
        status = {"succeeded": ChargeStatus.SUCCEEDED, "pending": ChargeStatus.UNKNOWN}.get(
            refund.status, ChargeStatus.FAILED
        )
        return RefundResult(status, provider_reference=refund.id)

    # Webhooks ----------------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        verify_signed_payload(body, headers.get("Stripe-Signature", ""), self.webhook_secret, self.TOLERANCE_SECONDS)
        try:
            data = json.loads(body)
            obj = data["data"]["object"]
            raw_type = str(data["type"])
            event_type = EVENT_TYPES.get(raw_type, raw_type)
            decline = ""
            if event_type == "charge.failed":
                error = obj.get("last_payment_error")
                decline = decline_for(error) if error else DeclineCode.AUTHENTICATION_FAILED
            is_intent = obj.get("object") == "payment_intent"
            return WebhookEvent(
                event_id=str(data["id"]),
                type=event_type,
                idempotency_key=str((obj.get("metadata") or {}).get(METADATA_KEY, "")) if is_intent else "",
                provider_reference=str(obj.get("id", "")) if is_intent else "",
                decline_code=str(decline),
                payload=data,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookInvalid("malformed body") from None
