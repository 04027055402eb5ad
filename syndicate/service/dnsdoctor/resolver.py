"""DNS look-ups (dnspython) that answer lists, or raise ``DnsFailure`` with one readable line.

NXDOMAIN and "no record of this type" are both an empty list: for every question the
doctor asks, a missing name and a missing record call for the same fix. A timeout,
SERVFAIL or refusal is a failure: the answer is unknown, not empty.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import dns.exception
import dns.name
import dns.resolver

from syndicate.core.errors import SyndicateError

DEFAULT_TIMEOUT = 5.0


class DnsFailure(Exception):
    """A look-up that got no usable answer (timeout, SERVFAIL, refused)."""


def parse_nameserver(value: str) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address -> (IP, port)."""
    host, port = value.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif host.count(":") == 1:
        host, port = host.split(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SyndicateError(f"--nameserver {value}: the port must be a number from 1 to 65535")
    try:
        return str(ipaddress.ip_address(host)), int(port)
    except ValueError:
        pass
    try:
        return str(socket.getaddrinfo(host, None)[0][4][0]), int(port)
    except (OSError, UnicodeError) as exc:
        raise SyndicateError(f"--nameserver {value}: cannot resolve {host!r} ({exc})") from None


class Resolver:
    """The system's resolver, or one name server (split DNS, tests)."""

    def __init__(self, nameserver: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if nameserver:
            resolver = dns.resolver.Resolver(configure=False)
            host, port = parse_nameserver(nameserver)
            resolver.nameservers = [host]
            resolver.port = port
        else:
            try:
                resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                raise SyndicateError(
                    "this machine has no DNS resolver configured (/etc/resolv.conf)",
                    hint="name one with --nameserver HOST[:PORT]",
                ) from None
        resolver.timeout = resolver.lifetime = timeout
        self.timeout = timeout
        self._resolver = resolver

    def query(self, name: str, rdtype: str) -> list[Any]:
        """The records of ``rdtype`` at ``name`` (CNAMEs followed); [] when there are none."""
        try:
            answer = self._resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        except dns.resolver.NoNameservers:
            raise DnsFailure(
                f"{name} {rdtype}: the name server failed (SERVFAIL or refused)"
            ) from None
        except dns.exception.Timeout:
            raise DnsFailure(f"{name} {rdtype}: no answer within {self.timeout:g} s") from None
        except dns.exception.DNSException as exc:
            raise DnsFailure(f"{name} {rdtype}: {exc}") from None
        return list(answer.rrset or [])

    def txt(self, name: str) -> list[str]:
        """Each TXT record as one string (its character-strings joined, as SPF/DKIM/DMARC do)."""
        return [
            b"".join(record.strings).decode("utf-8", "replace")
            for record in self.query(name, "TXT")
        ]

    def addresses(self, name: str) -> list[str]:
        """IPv4 then IPv6 addresses of ``name``."""
        return [r.address for rdtype in ("A", "AAAA") for r in self.query(name, rdtype)]

    def mx(self, name: str) -> list[tuple[int, str]]:
        """(preference, host) pairs, lowest preference first; a null MX host is ``"."``."""
        found = [
            (r.preference, "." if r.exchange == dns.name.root else r.exchange.to_text(True))
            for r in self.query(name, "MX")
        ]
        return sorted(found)
