"""localstripe (PyPI), a Stripe API look-alike, started on loopback for the Stripe adapter's tests.

``LocalStripe`` runs it in a child process with its own temporary directory and an in-memory store,
and waits until it answers. Run as a script, this module is that child:
localstripe's confirm endpoint refuses two parameters the real API documents and the adapter
sends (``return_url``, ``off_session``); the child accepts and drops them before serving; and it
ignores ``Idempotency-Key``, which the child honours as Stripe does. Nothing else about localstripe
is changed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


class LocalStripe:
    SECRET_KEY = "sk_test_refill_localstripe"

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

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool) -> None:
        """What the customer does on the bank's 3-D Secure page (localstripe's test endpoint)."""
        body = f"client_secret={client_secret}&success={'true' if success else 'false'}&key=pk_test_x".encode()
        request = urllib.request.Request(f"{self.url}/v1/payment_intents/{intent_id}/_authenticate", data=body)
        urllib.request.urlopen(request, timeout=10).close()


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


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
