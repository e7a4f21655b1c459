"""Where a webhook may be sent: public addresses only, unless the install allows private ones.

A project admin types the URL, and the server then POSTs to it. Unchecked, that lets anyone who
manages a webhook make the server reach what only the server can reach: the cloud metadata service
(169.254.169.254), a database or admin page on localhost, the office LAN (SSRF). So every address a
webhook's host resolves to must be a public one (not loopback, private, link-local, multicast,
reserved, unspecified or otherwise not globally routable; IPv4 and IPv6, and the IPv4 address inside
an IPv4-mapped, NAT64 or 6to4 IPv6 address), checked twice:

* when the URL is saved (API and page), so the admin gets a clear 422 at once; a name that does not
  resolve yet is accepted, the delivery checks it;
* before each attempt, because DNS can answer differently later (or differently each time: DNS
  rebinding). The attempt then connects to exactly the addresses it checked (the name is never
  resolved a second time), with the name kept for the Host header and TLS certificate checks.

Redirects are never followed (any 3xx is an answer that is not a 2xx, so the delivery is retried),
which also means a receiver cannot bounce the request to a private address.

`INFRATRACE_WEBHOOK_ALLOW_PRIVATE=1` (`Config.webhook_allow_private`) lets an on-premises install
whose receivers are on its own network turn the address check off (README, "Configuration").
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from typing import Any
from urllib.parse import SplitResult, urlsplit

from flask import current_app

from app.services.errors import ValidationError

# The IPv4 address a NAT64 gateway reaches for an address in this prefix (RFC 6052).
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The host resolves to an address webhooks may not reach."""


def allow_private() -> bool:
    return bool(current_app.config["INFRATRACE"].webhook_allow_private)


def address_kind(address: str) -> str | None:
    """Why `address` is not a public one ("loopback", "private", ...), or None when it is."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(str(embedded))
    for kind, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            return kind
    if not ip.is_global:  # e.g. 100.64.0.0/10, carrier-grade NAT
        return "private"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself); socket.gaierror if none."""
    seen: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


def checked_addresses(host: str, port: int, *, allow_private_targets: bool) -> list[str]:
    """The addresses to connect to; TargetRefused when any of them is not public (and that is
    not allowed). One private answer among public ones is refused too: which one a client picks
    is not ours to predict."""
    addresses = resolve(host, port)
    if not allow_private_targets:
        for address in addresses:
            kind = address_kind(address)
            if kind:
                raise TargetRefused(f"the host {host} resolves to a {kind} address, which webhooks may not reach")
    return addresses


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def check_url_target(url: str) -> None:
    """At save time: refuse (422 on `url`) a URL whose host resolves to a non-public address."""
    if allow_private():
        return
    parts = urlsplit(url)
    try:
        checked_addresses(parts.hostname or "", _port(parts), allow_private_targets=False)
    except TargetRefused as exc:
        raise ValidationError(
            "Webhook URLs must point at a public address: %(reason)s. (A site administrator can allow private "
            "addresses on an on-premises install.)", field="url", code="private_address",
            params={"reason": str(exc)}) from None
    except (OSError, UnicodeError, ValueError):
        return  # does not resolve (yet): every delivery attempt checks again


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to one already-checked address; the name stays in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to one already-checked address; the certificate is checked against the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
         keep: int) -> tuple[int | None, str, str | None]:
    """POST `body` to `url` after checking where it goes: (HTTP status or None, the first `keep`
    bytes of the response as text, error text or None). Never follows a redirect."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", _port(parts)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        addresses = checked_addresses(host, port, allow_private_targets=allow_private())
    except TargetRefused as exc:
        return None, "", f"Refused: {exc}"
    except (OSError, UnicodeError, ValueError) as exc:
        return None, "", _error(exc)
    connection_class: Any = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    failure: BaseException | None = None
    for address in addresses:
        connection = connection_class(host, port, address, timeout)
        try:
            connection.connect()
        except OSError as exc:  # this address does not answer: try the next one
            failure = exc
            connection.close()
            continue
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(keep).decode("utf-8", "replace")
            error = None
            if 300 <= response.status < 400:
                error = f"Redirect to {response.getheader('Location', '')[:300]!r} not followed"
            return response.status, text, error
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return None, "", _error(exc)
        finally:
            connection.close()
    return None, "", _error(failure) if failure else "no address to connect to"
