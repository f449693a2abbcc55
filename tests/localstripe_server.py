"""localstripe (PyPI), a Stripe API look-alike, started on loopback for the Stripe adapter's tests.

``LocalStripe`` runs it in a child process with its own temporary directory and an in-memory store,
and waits until it answers. Run as a script, this module is that child:
localstripe's confirm endpoint refuses two parameters the real API documents and the adapter
sends (``return_url``, ``off_session``); the child accepts and drops them before serving; and it
ignores ``Idempotency-Key``, which the child honours as Stripe does (a POST sent again with the same
key answers the first answer).

Refill's extension for Alipay and WeChat Pay (``_refill_wallets``; localstripe implements neither):
PaymentIntents keep their ``payment_method_types``; confirming one with ``payment_method_data[type]``
``alipay`` or ``wechat_pay`` answers ``requires_action`` with ``next_action`` shaped as Stripe documents
it (``alipay_handle_redirect``, ``wechat_pay_display_qr_code``); ``/_config/refill/<method>/<id>``
serves the stand-in of the page where the customer authorises (Alipay) or the hosted instructions
(WeChat Pay), and takes the customer's answer as a POST ``outcome`` = ``succeeded``, ``failed`` or
``expired``: the intent then succeeds (a charge, ``payment_intent.succeeded``) or goes back to
``requires_payment_method`` with ``last_payment_error.code`` ``payment_intent_payment_attempt_failed``
or ``payment_intent_payment_attempt_expired`` (``payment_intent.payment_failed``), as Stripe does.
Nothing else about localstripe is changed.

For cards tokenised in the browser (Stripe.js), two things localstripe lacks are added, as Stripe
does them: ``POST /v1/payment_methods`` may be called with the publishable key (``key=pk_…`` in
the form body, which is what Stripe.js sends), and localstripe's Stripe.js stand-in, served at
``/js.stripe.com/v3/``, gets ``createPaymentMethod`` and ``paymentRequest``
(``tests/localstripe_stripejs.js``). Nothing else about localstripe is changed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

STRIPEJS_ADDITIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "localstripe_stripejs.js")


class LocalStripe:
    SECRET_KEY = "sk_test_refill_localstripe"
    PUBLISHABLE_KEY = "pk_test_refill_localstripe"

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="refill-localstripe-")
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> LocalStripe:
        env = {
            **os.environ,
            "TMPDIR": self._tmp.name,
            "HOME": self._tmp.name,
            "XDG_CONFIG_HOME": self._tmp.name,
        }
        self._log = open(os.path.join(self._tmp.name, "localstripe.log"), "wb")  # noqa: SIM115 - closed in __exit__
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(self.port)], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {self.log()}")
            try:
                request = urllib.request.Request(
                    f"{self.url}/v1/customers", headers={"Authorization": f"Bearer {self.SECRET_KEY}"}
                )
                urllib.request.urlopen(request, timeout=2).close()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("localstripe did not start within 30 s")

    def log(self) -> str:
        with open(os.path.join(self._tmp.name, "localstripe.log"), "rb") as handle:
            return handle.read().decode(errors="replace")[-4000:]

    def __exit__(self, *exc) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        self._tmp.cleanup()

    def send_webhooks_to(self, url: str, secret: str) -> None:
        """Have localstripe deliver its events to ``url``, signed with ``secret`` (Stripe's scheme)."""
        body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        urllib.request.urlopen(
            urllib.request.Request(f"{self.url}/_config/webhooks/refill", data=body), timeout=10
        ).close()

    @property
    def js_url(self) -> str:
        """localstripe's Stripe.js stand-in (with the additions above), for REFILL_STRIPE_JS_URL."""
        return f"{self.url}/js.stripe.com/v3/"

    def browser_payment_method(
        self, number: str, *, exp_month: int = 12, exp_year: int = 2031, cvc: str = "123"
    ) -> str:
        return browser_payment_method(self.url, number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool) -> None:
        """What the customer does on the bank's 3-D Secure page (localstripe's test endpoint)."""
        body = f"client_secret={client_secret}&success={'true' if success else 'false'}&key=pk_test_x".encode()
        request = urllib.request.Request(f"{self.url}/v1/payment_intents/{intent_id}/_authenticate", data=body)
        urllib.request.urlopen(request, timeout=10).close()

    def wallet_pays(self, method: str, intent_id: str, outcome: str = "succeeded") -> None:
        """What the customer does in the Alipay or WeChat app (Refill's extension, below):
        ``succeeded``, ``failed`` or ``expired`` (the QR code ran out before anyone paid)."""
        body = urllib.parse.urlencode({"outcome": outcome, "answer": "json"}).encode()
        request = urllib.request.Request(f"{self.url}/_config/refill/{method}/{intent_id}", data=body)
        urllib.request.urlopen(request, timeout=10).close()


def browser_payment_method(
    url: str, number: str, *, exp_month: int = 12, exp_year: int = 2031, cvc: str = "123"
) -> str:
    """A card made into a PaymentMethod the way Stripe.js does it in the browser: the publishable
    key and the card, posted straight to the provider at ``url`` (never to Refill). The pm_ id."""
    body = urllib.parse.urlencode(
        {
            "key": LocalStripe.PUBLISHABLE_KEY,
            "type": "card",
            "card[number]": number.replace(" ", ""),
            "card[exp_month]": str(exp_month),
            "card[exp_year]": str(exp_year),
            "card[cvc]": cvc,
        }
    ).encode()
    request = urllib.request.Request(f"{url}/v1/payment_methods", data=body)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["id"]


def _serve(port: int) -> None:
    from localstripe import resources

    original = resources.PaymentIntent._api_confirm.__func__

    def confirm(cls, id, return_url=None, off_session=None, **kwargs):
        return original(cls, id, **kwargs)

    resources.PaymentIntent._api_confirm = classmethod(confirm)
    # Routes are bound when the server module is imported, so patch the table first.
    for index, (method, url, _func) in enumerate(resources.extra_apis):
        if url == "/v1/payment_intents/{id}/confirm":
            resources.extra_apis[index] = (method, url, resources.PaymentIntent._api_confirm)
    _refill_wallets(resources, f"http://127.0.0.1:{port}")
    # Keep the store in memory only (localstripe would pickle it to /tmp on every write).
    resources.Store.dump_to_disk = lambda self: None

    from aiohttp import web
    from localstripe import server

    _refill_wallet_pages(server.app, resources)
    server.app.middlewares.insert(0, _browser_tokenisation(web, server, resources))

    # localstripe ignores the Idempotency-Key header, which Stripe honours (a POST sent again with
    # the same key answers the first answer; the key on another path is refused). The double
    # replays answers the same way (used by the contract's idempotent retry case).
    answered: dict[str, tuple[str, int, bytes, str]] = {}

    @web.middleware
    async def idempotency(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        if key in answered:
            path, status, body, content_type = answered[key]
            if path != request.path:
                return web.json_response(
                    {"error": {"type": "idempotency_error", "message": "Keys are for one request only."}}, status=400
                )
            return web.Response(status=status, body=body, content_type=content_type)
        response = await handler(request)
        if response.status < 500:
            answered[key] = (request.path, response.status, response.body, response.content_type)
        return response

    server.app.middlewares.append(idempotency)
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)


# Refill's extension: Alipay and WeChat Pay ----------------------------------------------------
# localstripe knows cards and SEPA debits only. What follows adds the two wallets as Stripe
# documents them for PaymentIntents, and the customer's side (the app) as test endpoints.

WALLETS = ("alipay", "wechat_pay")
STAND_IN = "/_config/refill"  # localstripe leaves /_config/ unauthenticated, as a customer's page must be
OUTCOMES = {
    "failed": ("payment_intent_payment_attempt_failed", "The customer did not complete the payment."),
    "expired": ("payment_intent_payment_attempt_expired", "The payment attempt expired before it was paid."),
}


def _refill_wallets(resources, base: str) -> None:
    from localstripe.errors import UserError

    intent_cls, method_cls = resources.PaymentIntent, resources.PaymentMethod

    original_intent_init = intent_cls.__init__

    def intent_init(self, *args, payment_method_types=None, **kwargs):
        types = list(payment_method_types or ["card"])
        if any(kind not in ("card", *WALLETS) for kind in types):
            raise UserError(400, f"The payment method type provided is invalid: {types}")
        original_intent_init(self, *args, **kwargs)
        self.payment_method_types = types
        self._refill_wallet_error = None
        self._refill_return_url = None

    intent_cls.__init__ = intent_init

    original_error = intent_cls.last_payment_error.fget
    intent_cls.last_payment_error = property(
        lambda self: getattr(self, "_refill_wallet_error", None) or original_error(self)
    )

    original_method_init = method_cls.__init__

    def method_init(self, type=None, billing_details=None, metadata=None, **kwargs):
        if type not in WALLETS:
            original_method_init(self, type=type, billing_details=billing_details, metadata=metadata, **kwargs)
            return
        if set(kwargs) - {type}:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        resources.StripeObject.__init__(self)
        self.type = type
        setattr(self, type, {})
        self.billing_details = billing_details or {}
        self.customer = None
        self.metadata = metadata or {}

    method_cls.__init__ = method_init

    card_confirm = intent_cls._api_confirm.__func__

    def confirm(cls, id, payment_method_data=None, payment_method_options=None, return_url=None, **kwargs):
        kind = (payment_method_data or {}).get("type")
        if kind not in WALLETS:
            return card_confirm(cls, id, return_url=return_url, **kwargs)
        obj = cls._api_retrieve(id)
        if kind not in obj.payment_method_types:
            raise UserError(400, f"{kind} is not in this PaymentIntent's payment_method_types")
        if obj.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, f"You cannot confirm this PaymentIntent because it has a status of {obj.status}")
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        options = (payment_method_options or {}).get(kind) or {}
        if kind == "alipay" and not return_url:
            raise UserError(400, "A return_url is required to confirm an Alipay payment")
        if kind == "wechat_pay" and options.get("client") != "web":
            # ios and android need an app registered with WeChat (app_id): not in this stand-in.
            raise UserError(400, "payment_method_options[wechat_pay][client] must be web here")
        method = method_cls(type=kind, billing_details=payment_method_data.get("billing_details"))
        obj.payment_method = method.id
        obj._refill_wallet_error = None
        obj._refill_return_url = return_url
        page = f"{base}{STAND_IN}/{kind}/{obj.id}"
        if kind == "alipay":
            obj.next_action = {
                "type": "alipay_handle_redirect",
                "alipay_handle_redirect": {
                    "native_data": None,
                    "native_url": None,
                    "return_url": return_url,
                    "url": page,
                },
            }
        else:
            data = f"weixin://wxpay/bizpayurl?pr={obj.id[3:15]}"
            obj.next_action = {
                "type": "wechat_pay_display_qr_code",
                "wechat_pay_display_qr_code": {
                    "data": data,
                    "hosted_instructions_url": page,
                    "image_data_url": _qr(data).png_data_uri(scale=4),
                    "image_url_png": f"{page}/qr.png",
                    "image_url_svg": f"{page}/qr.svg",
                },
            }
        return obj

    intent_cls._api_confirm = classmethod(confirm)
    for index, (verb, url, _func) in enumerate(resources.extra_apis):
        if url == "/v1/payment_intents/{id}/confirm":
            resources.extra_apis[index] = (verb, url, intent_cls._api_confirm)


def _qr(data: str):
    import segno

    return segno.make(data, error="m")


def _refill_wallet_pages(app, resources) -> None:
    """The customer's side: the page Stripe sends an Alipay payer to, WeChat Pay's hosted
    instructions, and the answer given in the app (POST ``outcome``)."""
    import html
    import io

    from aiohttp import web
    from localstripe.webhooks import schedule_webhook

    def waiting(request):
        kind, id = request.match_info["kind"], request.match_info["id"]
        if kind not in WALLETS:
            raise web.HTTPNotFound()
        obj = resources.PaymentIntent._api_retrieve(id)
        method = resources.PaymentMethod._api_retrieve(obj.payment_method) if obj.payment_method else None
        if obj.status != "requires_action" or method is None or method.type != kind:
            raise web.HTTPBadRequest(text=f"{id} is {obj.status}, not waiting for {kind}")
        return obj

    async def page(request):
        obj = waiting(request)
        kind = request.match_info["kind"]
        buttons = "".join(
            f'<button name="outcome" value="{value}" data-testid="stand-in-{value}">{label}</button>'
            for value, label in (("succeeded", "Authorize test payment"), ("failed", "Fail test payment"))
        )
        body = (
            f'<!doctype html><html lang="en"><title>{kind} test payment</title><link rel="icon" href="data:,">'
            f'<h1 data-testid="stand-in-page">{html.escape(kind)} test payment</h1>'
            f"<p>{obj.amount / 100:.2f} {html.escape(obj.currency.upper())}</p>"
            "<p>localstripe with Refill's extension (tests/localstripe_server.py)</p>"
            f'<form method="post">{buttons}</form>'
        )
        return web.Response(text=body, content_type="text/html")

    async def answer(request):
        obj = waiting(request)
        form = await request.post()
        outcome = form.get("outcome", "")
        if outcome == "succeeded":
            obj.next_action = None
            obj._create_charge(on_failure_now=obj._report_failure)
        elif outcome in OUTCOMES:
            code, message = OUTCOMES[outcome]
            method = resources.PaymentMethod._api_retrieve(obj.payment_method)._export()
            obj.next_action = None
            obj.payment_method = None
            obj._refill_wallet_error = {
                "code": code,
                "message": message,
                "payment_method": method,
                "type": "invalid_request_error",
            }
            schedule_webhook(resources.Event("payment_intent.payment_failed", obj))
        else:
            raise web.HTTPBadRequest(text="outcome must be succeeded, failed or expired")
        if form.get("answer") == "json" or not obj._refill_return_url:
            return web.json_response(obj._export())
        status = "succeeded" if outcome == "succeeded" else "failed"
        query = f"payment_intent={obj.id}&payment_intent_client_secret={obj.client_secret}&redirect_status={status}"
        separator = "&" if "?" in obj._refill_return_url else "?"
        raise web.HTTPFound(f"{obj._refill_return_url}{separator}{query}")

    async def image(request):
        obj = waiting(request)
        data = obj.next_action["wechat_pay_display_qr_code"]["data"]
        out = io.BytesIO()
        kind = request.match_info["format"]
        _qr(data).save(out, kind=kind, scale=4)
        return web.Response(body=out.getvalue(), content_type="image/png" if kind == "png" else "image/svg+xml")

    app.router.add_get(STAND_IN + "/{kind}/{id}", page)
    app.router.add_post(STAND_IN + "/{kind}/{id}", answer)
    app.router.add_get(STAND_IN + "/{kind}/{id}/qr.{format:png|svg}", image)


def _browser_tokenisation(web, server, resources):
    """The two additions for Stripe.js (see the module's docstring), as an aiohttp middleware in
    front of localstripe's own (which would refuse a publishable key on this route)."""
    stand_in = os.path.join(os.path.dirname(server.__file__), "localstripe-v3.js")

    @web.middleware
    async def middleware(request, handler):
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            with open(stand_in) as original, open(STRIPEJS_ADDITIONS) as additions:
                text = original.read() + "\n" + additions.read()
            return web.Response(text=text, content_type="application/javascript")
        by_browser = "Authorization" not in request.headers
        if request.method == "POST" and request.path == "/v1/payment_methods" and by_browser:
            data = await server.get_post_data(request, remove_auth=False)
            if not isinstance(data, dict) or not str(data.get("key", "")).startswith("pk_"):
                return await handler(request)
            data = {k: v for k, v in data.items() if k not in ("key", "payment_user_agent", "referrer")}
            try:
                return server.json_response(resources.PaymentMethod._api_create(**data)._export())
            except server.UserError as error:
                return error.to_response()
        return await handler(request)

    return middleware


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
