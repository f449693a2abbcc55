"""localstripe (PyPI), a Stripe API look-alike, started on loopback for the Stripe adapter's tests.

``LocalStripe`` runs it in a child process with its own temporary directory and an in-memory store,
and waits until it answers. Run as a script, this module is that child:
localstripe's confirm endpoint refuses two parameters the real API documents and the adapter
sends (``return_url``, ``off_session``); the child accepts and drops them before serving.

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
    # Keep the store in memory only (localstripe would pickle it to /tmp on every write).
    resources.Store.dump_to_disk = lambda self: None

    from aiohttp import web
    from localstripe import server

    server.app.middlewares.insert(0, _browser_tokenisation(web, server, resources))
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)


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
