"""Outgoing HTTP to URLs that staff typed (partners' webhook endpoints), kept off this machine and
its private network (server-side request forgery).

A URL's host is checked when it is saved and again when each request is sent, after resolving it:
a name may point somewhere else by then (or answer differently to each lookup, DNS rebinding), so
the request goes to the very address that was checked, while TLS still verifies the certificate
for the name (and sends it as SNI). Redirects are never followed. Loopback, private, shared,
link-local, multicast, reserved and unspecified addresses are refused, IPv4 and IPv6 alike, with
IPv4-mapped IPv6 addresses and the old numeric spellings (``2130706433``, ``0177.0.0.1``,
``0x7f.1``) read the way a resolver would read them.

Operators who do need an internal receiver name its host in ``REFILL_WEBHOOK_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(RefillError):
    code = "address_refused"
    message = _("That URL points at a private or local network address. Use the partner's public address.")


class HostNotFound(RefillError):
    code = "host_not_found"
    message = _("That URL's host name could not be found. Check it and try again.")


class BadUrl(RefillError):
    code = "bad_url"
    message = _("Enter a full URL such as https://partner.example/hooks, without a user name or password.")


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to. Tests replace this function (the resolver seam) to play
    a name that resolves to an internal address, or to one address now and another later."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, if it is an address at all: dotted IPv4, IPv6 (bracketed or
    not), and the forms inet_aton also accepts (one to four parts, each decimal, octal with a
    leading 0, or hex with 0x), which getaddrinfo and browsers read as IPv4 too."""
    host = host.strip().rstrip(".").strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
        if numbers[-1] < 0:
            return None
    # a.b.c.d; a.b.c (c fills 16 bits); a.b (b fills 24 bits); a (32 bits)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (24 - 8 * index)
    return ipaddress.IPv4Address(value)


def address_is_public(address: IPAddress) -> bool:
    """Reachable on the public internet: not loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7,
    100.64/10 shared), link-local (169.254/16, fe80::/10, where cloud metadata lives), multicast,
    reserved, unspecified, nor any of those wrapped in IPv6 (::ffff:a.b.c.d, 6to4, NAT64 ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if wrapped is not None and not address_is_public(wrapped):
            return False
        if address in ipaddress.IPv6Network("64:ff9b::/96") or address in ipaddress.IPv6Network("64:ff9b:1::/48"):
            return address_is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in ipaddress.IPv6Network("::/96"):  # IPv4-compatible (deprecated): ::a.b.c.d
            return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def host_allowed(host: str) -> bool:
    """Named by the operator in REFILL_WEBHOOK_ALLOWED_HOSTS: reachable whatever its address."""
    allowed = {h.strip().lower().rstrip(".") for h in settings.REFILL_WEBHOOK_ALLOWED_HOSTS if h.strip()}
    return host.lower().rstrip(".") in allowed


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (without brackets): the name TLS verifies and the Host header carries
    port: int
    path: str  # path and query


def url_parse(url: str, *, schemes: tuple[str, ...] = ("https",)) -> Target:
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise BadUrl() from None
    if parts.scheme.lower() not in schemes or not parts.hostname or parts.username or parts.password:
        raise BadUrl()
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url.strip()):
        raise BadUrl()
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80), path=path)


def target_address(target: Target) -> str:
    """The address to connect to, checked. Raises AddressRefused when the host is, or resolves to,
    a non-public address, HostNotFound when it does not resolve. Every address a name resolves to
    must be public: one internal answer among public ones is a rebinding attempt, not a partner.
    A host the operator allowed is resolved the same way but not checked."""
    allowed = host_allowed(target.host)
    literal = ip_literal(target.host)
    if literal is not None:
        if not allowed and not address_is_public(literal):
            raise AddressRefused()
        return str(literal)
    try:
        found = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        raise HostNotFound() from None
    addresses = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError:
            raise AddressRefused() from None
    if not addresses:
        raise HostNotFound()
    if not allowed and not all(address_is_public(address) for address in addresses):
        raise AddressRefused()
    return str(addresses[0])


def url_check(url: str, *, schemes: tuple[str, ...] = ("https",)) -> Target:
    """Check a URL staff are saving: well formed, one of ``schemes``, and a public host (or one the
    operator allowed, which need not resolve yet). Raises a RefillError whose message the form
    shows."""
    target = url_parse(url, schemes=schemes)
    if not host_allowed(target.host):
        target_address(target)
    return target


class DeliveryFailed(Exception):
    """A request that could not be made; ``reason`` is generic on purpose (staff see it): never the
    operating system's text, which tells open ports from closed ones, nor an internal address."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# The reasons a failed request is stored with (DeliveryFailed.reason).
REFUSED, NOT_FOUND, TIMED_OUT, NO_CONNECTION = "address refused", "host not found", "timed out", "could not connect"
REASONS = {
    REFUSED: _("address refused"),
    NOT_FOUND: _("host not found"),
    TIMED_OUT: _("timed out"),
    NO_CONNECTION: _("could not connect"),
}


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float, schemes: tuple[str, ...]) -> int:
    """POST ``body`` to ``url`` (checked again, resolved, then connected to at the checked address)
    and return the HTTP status; a redirect is returned as its status, never followed. Raises
    DeliveryFailed with a generic reason."""
    try:
        target = url_parse(url, schemes=schemes)
        address = target_address(target)
    except AddressRefused:
        raise DeliveryFailed(REFUSED) from None
    except HostNotFound:
        raise DeliveryFailed(NOT_FOUND) from None
    except BadUrl:
        raise DeliveryFailed(REFUSED) from None
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    # Connect to the address just checked, not to whatever the name resolves to a moment later;
    # TLS is still wrapped with server_hostname=target.host, so the certificate is checked for the
    # name and SNI carries it (and the Host header names it too).
    def pinned(_where, timeout=None, source_address=None, *args, **kwargs):
        return socket.create_connection((address, target.port), timeout, source_address)

    connection._create_connection = pinned
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # a little of the answer, so the receiver is not cut off mid-write
        return response.status
    except TimeoutError:
        raise DeliveryFailed(TIMED_OUT) from None
    except (OSError, http.client.HTTPException, ValueError):
        raise DeliveryFailed(NO_CONNECTION) from None
    finally:
        connection.close()
