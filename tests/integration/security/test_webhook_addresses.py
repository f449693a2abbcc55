"""Partner webhook URLs cannot reach this machine or its private network (issue 24 item 1).

Refused when saved (a clear, translated form error, nothing saved) and again when sent, after the
name is resolved (through http_guard's resolver seam, which these tests replace): a name that
resolves to an internal address later, or differently between check and connect, reaches nothing.
Redirects are not followed (real loopback servers: one answers 302 towards the other, which counts
hits), staff see generic errors only, and staff can delete an endpoint (audited)."""

import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from refill.audit.models import AuditEvent
from refill.customers.models import User
from refill.errors import RefillError
from refill.integrations import http_guard
from refill.webhooks import outbox as webhooks
from refill.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from refill.webhooks.outbox import endpoint_create, webhook_emit, webhooks_deliver
from tests.factories import login, make_staff

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a public address (no test connects to it unless it says so)

# Each way of writing an address that is not on the public internet.
REFUSED_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",  # 127.0.0.1 as one decimal number
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",  # hex
    "0x7f000001",
    "0.0.0.0",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "169.254.169.254",  # cloud metadata
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[fe80::1]",  # link-local
    "[fc00::1]",  # unique local
    "[ff02::1]",  # multicast
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
]
# The address a name resolves to, for the same list (a name that points inside).
REFUSED_ADDRESSES = [
    "127.0.0.1", "10.1.2.3", "172.31.0.1", "192.168.0.10", "169.254.169.254", "100.100.1.1", "0.0.0.0",
    "224.0.0.251", "::1", "::ffff:10.0.0.1", "fe80::1", "fd12:3456::1", "::",
]  # fmt: skip


class Dns:
    """The resolver seam, played: names map to addresses; unknown names do not resolve. ``later``
    answers take over after the first lookup (a name that changes, DNS rebinding)."""

    def __init__(self):
        self.names: dict[str, list[str]] = {}
        self.later: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.later and self.lookups.count(host) > 1:
            return self.later[host]
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "not known")
        return self.names[host]


@pytest.fixture
def dns(monkeypatch):
    fake = Dns()
    fake.names["hooks.partner.example"] = [PUBLIC]
    monkeypatch.setattr(http_guard, "resolve", fake)
    return fake


class Server:
    """A real HTTP server on loopback: counts hits, answers ``status`` (with ``location``)."""

    def __init__(self, status: int = 204, location: str = "", silent: bool = False):
        self.hits = []
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server_self.hits.append((self.command, self.path))
                if silent:
                    threading.Event().wait(3)  # accepts, never answers in time
                    return
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _answer  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    made = []

    def make(**kwargs):
        made.append(Server(**kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _event_for(endpoint_url: str, *, direct: bool = False) -> WebhookDelivery:
    """One pending delivery to ``endpoint_url``; ``direct`` stores the endpoint as an older Refill
    would have (no check at save), to show the check at send time on its own."""
    if direct:
        WebhookEndpoint.objects.create(name="old", url=endpoint_url, secret="whsec_x", events=["order.paid"])
    else:
        endpoint_create(name="partner", url=endpoint_url, events=["order.paid"], actor=None)
    webhook_emit("order.paid", {"order_id": 1})
    return WebhookDelivery.objects.get()


def _admin_client(email="webhooks-admin@example.com") -> tuple[Client, User]:
    user = make_staff("admin", email)
    client = Client()
    login(client, user)
    return client, user


# --- at save time --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", REFUSED_HOSTS)
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_internal_addresses_are_refused_when_saved(dns, scheme, host):
    with pytest.raises(http_guard.AddressRefused):
        endpoint_create(name="x", url=f"{scheme}://{host}:1/hook", events=["order.paid"], actor=None)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_names_that_resolve_inside_are_refused_when_saved(dns, address):
    dns.names["inside.partner.example"] = [address]
    dns.names["mixed.partner.example"] = [PUBLIC, address]  # one inside answer is enough
    for name in ("inside.partner.example", "mixed.partner.example"):
        with pytest.raises(http_guard.AddressRefused):
            endpoint_create(name="x", url=f"https://{name}/hook", events=["order.paid"], actor=None)
    assert not WebhookEndpoint.objects.exists()


def test_public_names_and_addresses_are_saved_and_odd_urls_refused(dns):
    endpoint_create(name="Partner", url="https://hooks.partner.example/in?x=1", events=["order.paid"], actor=None)
    endpoint_create(name="By address", url=f"https://{PUBLIC}/in", events=["order.paid"], actor=None)
    assert WebhookEndpoint.objects.count() == 2
    for url, error in [
        ("https://nowhere.partner.example/in", http_guard.HostNotFound),
        ("https://user:secret@hooks.partner.example/in", http_guard.BadUrl),
        ("https://hooks.partner.example:99999/in", http_guard.BadUrl),
        ("https://evil.example@127.0.0.1/in", http_guard.BadUrl),
    ]:
        with pytest.raises(error):
            endpoint_create(name="x", url=url, events=["order.paid"], actor=None)
    assert WebhookEndpoint.objects.count() == 2


def test_the_back_office_form_says_why_in_the_staff_members_language(dns):
    client, _ = _admin_client()
    for language in ("en", "zh-hans"):
        client.cookies["django_language"] = language
        answer = client.post(
            reverse("backoffice:webhooks"),
            {"name": "Probe", "url": "https://127.0.0.1:1/hook", "events": ["order.paid"]},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        page = answer.content.decode()
        assert answer.status_code == 400 and 'data-testid="webhook-error"' in page
        assert f'<html lang="{ {"en": "en", "zh-hans": "zh-Hans"}[language] }"' in page
        with translation.override(language):
            assert escape(str(http_guard.AddressRefused.message)) in page
        assert 'value="https://127.0.0.1:1/hook"' in page  # kept, to correct
    with translation.override("zh-hans"):
        chinese = str(http_guard.AddressRefused.message)
    with translation.override("en"):
        assert chinese != str(http_guard.AddressRefused.message)
    assert not WebhookEndpoint.objects.exists()


def test_operators_may_allow_named_internal_hosts(dns, settings):
    dns.names["hooks.corp.internal"] = ["10.0.0.7"]
    with pytest.raises(RefillError):
        endpoint_create(name="CRM", url="https://hooks.corp.internal/in", events=["order.paid"], actor=None)
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["hooks.corp.internal"]
    endpoint_create(name="CRM", url="https://hooks.corp.internal/in", events=["order.paid"], actor=None)
    with pytest.raises(http_guard.AddressRefused):  # only the host named, not its neighbours
        endpoint_create(name="x", url="https://10.0.0.7/in", events=["order.paid"], actor=None)


# --- at send time --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_internal_addresses_saved_before_are_refused_when_sent(dns, servers, host):
    delivery = _event_for(f"http://{host}:1/hook", direct=True)
    assert webhooks_deliver() == 0
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.status_code, attempt.error) == (None, "address refused")


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_a_name_that_resolves_inside_later_reaches_nothing(dns, servers, address):
    receiver = servers()
    dns.names["later.partner.example"] = [PUBLIC]
    delivery = _event_for(f"http://later.partner.example:{receiver.port}/hook")  # public when saved
    dns.names["later.partner.example"] = [address]
    assert webhooks_deliver() == 0
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.status_code, attempt.error) == (None, "address refused")
    assert receiver.hits == []


def test_rebinding_between_check_and_connect_reaches_nothing(dns, servers, monkeypatch):
    """The name is public when checked and loopback on any later lookup: the connection goes to
    the address that was checked (it fails here: no network), never to loopback."""
    receiver = servers()
    monkeypatch.setattr(webhooks, "TIMEOUT", 1)
    dns.names["rebind.partner.example"] = [PUBLIC]
    delivery = _event_for(f"http://rebind.partner.example:{receiver.port}/hook", direct=True)
    dns.later["rebind.partner.example"] = ["127.0.0.1"]
    webhooks_deliver()
    assert dns.lookups.count("rebind.partner.example") == 1  # one lookup, and that address is used
    assert receiver.hits == []
    assert WebhookAttempt.objects.get(delivery=delivery).status_code is None


def test_redirects_are_not_followed(settings, servers):
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    inside = servers()
    bouncer = servers(status=302, location=f"http://127.0.0.1:{inside.port}/admin")
    delivery = _event_for(f"http://127.0.0.1:{bouncer.port}/hook")
    assert webhooks_deliver() == 0
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 302 and len(bouncer.hits) == 1
    assert inside.hits == []
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.delivered_at is None  # a failed attempt, retried


def test_staff_see_a_generic_error_never_the_systems(settings, servers, monkeypatch):
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.5)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    slow = servers(silent=True)
    endpoint_create(name="closed", url=f"http://127.0.0.1:{closed}/hook", events=["order.paid"], actor=None)
    endpoint_create(name="slow", url=f"http://127.0.0.1:{slow.port}/hook", events=["order.paid"], actor=None)
    webhook_emit("order.paid", {"order_id": 1})
    assert webhooks_deliver() == 0
    errors = dict(WebhookAttempt.objects.values_list("delivery__endpoint__name", "error"))
    assert errors == {"closed": "could not connect", "slow": "timed out"}

    client, _ = _admin_client()
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("backoffice:webhooks"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    with translation.override("zh-hans"):
        assert (
            escape(str(http_guard.REASONS["could not connect"])) in page
            and escape(str(http_guard.REASONS["timed out"])) in page
        )
    assert "Errno" not in page and "refused" not in page.lower()


# --- deleting an endpoint ------------------------------------------------------------------------


def test_staff_delete_an_endpoint_after_confirming_and_it_is_audited(settings, servers):
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = servers()
    keep = endpoint_create(name="Keep", url=f"http://127.0.0.1:{receiver.port}/keep", events=["order.paid"], actor=None)
    gone = endpoint_create(name="Gone", url=f"http://127.0.0.1:{receiver.port}/gone", events=["order.paid"], actor=None)
    webhook_emit("order.paid", {"order_id": 1})
    webhook_emit("order.paid", {"order_id": 2}, now=timezone.now() + timedelta(hours=1))  # not due yet
    webhooks_deliver()  # the first event reaches both
    client, admin = _admin_client()

    page = client.get(reverse("backoffice:webhooks")).content.decode()
    delete_url = reverse("backoffice:webhook_delete", args=[gone.pk])
    assert f'data-testid="delete-endpoint-{gone.pk}"' in page and delete_url in page
    confirm = client.get(delete_url)
    assert confirm.status_code == 200 and 'data-testid="webhook-delete-confirm"' in confirm.content.decode()
    assert 'data-testid="webhook-delete-pending"' in confirm.content.decode()  # one still waiting
    assert WebhookEndpoint.objects.filter(pk=gone.pk).exists()  # asking is not deleting

    answer = client.post(delete_url)
    assert answer.status_code == 302 and answer["Location"] == reverse("backoffice:webhooks")
    assert list(WebhookEndpoint.objects.values_list("name", flat=True)) == ["Keep"]
    assert not WebhookDelivery.objects.filter(endpoint_id=gone.pk).exists()
    assert WebhookEvent.objects.count() == 2  # the events stay: Keep still has them
    row = AuditEvent.objects.get(action="webhook.endpoint_deleted")
    assert row.actor_id == admin.pk and row.object_id == str(gone.pk)
    assert row.data["url"] == gone.url and row.data["deliveries"] == {"pending": 1, "succeeded": 1, "failed": 0}

    hits = len(receiver.hits)
    webhooks_deliver(now=timezone.now() + timedelta(hours=2))
    assert [path for _method, path in receiver.hits[hits:]] == ["/keep"]  # nothing more to the deleted one
    assert client.post(delete_url).status_code == 404
    assert keep.deliveries.count() == 2


def test_an_attempt_under_way_when_its_endpoint_is_deleted_is_dropped(settings, servers):
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = servers()
    delivery = _event_for(f"http://127.0.0.1:{receiver.port}/hook")
    webhooks.endpoint_delete(endpoint=delivery.endpoint, actor=None)
    assert webhooks._attempt(delivery, timezone.now()) is False  # sent, then nowhere to record it
    assert not WebhookAttempt.objects.exists()


def test_only_admins_may_delete_endpoints(settings):
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint = endpoint_create(name="Gone", url="http://127.0.0.1:9/hook", events=["order.paid"], actor=None)
    for role in ("support", "finance", "catalog"):
        user = make_staff(role, f"{role}-wh@example.com")
        client = Client()
        login(client, user)
        url = reverse("backoffice:webhook_delete", args=[endpoint.pk])
        assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not AuditEvent.objects.filter(action="webhook.endpoint_deleted").exists()


# --- TLS to the checked address ------------------------------------------------------------------


def _certificates(folder, name: str):
    """A throwaway CA (trusted through SSL_CERT_FILE) and a server certificate for ``name``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, *, ca: bool, issuer_key=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )  # fmt: skip
        )
        if issuer_key is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False
            )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("Refill test CA", "Refill test CA", ca_key.public_key(), ca_key, ca=True)
    server = build(name, "Refill test CA", server_key.public_key(), ca_key, ca=False, issuer_key=ca_key.public_key())
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


def test_tls_goes_to_the_resolved_address_and_verifies_the_name(dns, settings, servers, tmp_path, monkeypatch):
    """The connection is made to the address the resolver gave, while the certificate is checked
    for the name in the URL (sent as SNI): a certificate for another name is refused."""
    import ssl

    ca, certificate, key = _certificates(tmp_path, "hooks.corp.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    receiver = servers()
    names_seen = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    context.sni_callback = lambda _socket, server_name, _context: names_seen.append(server_name)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["hooks.corp.test", "other.corp.test"]
    dns.names["hooks.corp.test"] = dns.names["other.corp.test"] = ["127.0.0.1"]

    good = _event_for(f"https://hooks.corp.test:{receiver.port}/hook")
    assert webhooks_deliver() == 1
    assert WebhookAttempt.objects.get(delivery=good).status_code == 204
    assert names_seen == ["hooks.corp.test"] and receiver.hits == [("POST", "/hook")]

    WebhookEndpoint.objects.update(active=False)  # the next event goes to the wrong name only
    endpoint_create(
        name="wrong name", url=f"https://other.corp.test:{receiver.port}/hook", events=["order.paid"], actor=None
    )
    webhook_emit("order.paid", {"order_id": 2})
    assert webhooks_deliver() == 0
    attempt = WebhookAttempt.objects.get(delivery__endpoint__name="wrong name")
    assert (attempt.status_code, attempt.error) == (None, "could not connect")
    assert receiver.hits == [("POST", "/hook")]  # the certificate did not match: nothing sent
