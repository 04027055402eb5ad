"""The HTTP client of feed sources: a polite, bounded GET that goes only where it may.

- Each URL is parsed once, by urllib3 (the parser requests itself uses), and must be
  absolute http(s).
- The host name is resolved once per connection and only the allowed (public)
  addresses it resolves to are connected to: a private or local one is refused before
  any connect, so neither a name resolving to a private address nor a redirect to one
  gets through, and DNS rebinding cannot swap the address between check and connect
  (the socket's peer is checked again); ``allow_private`` lifts that for sources on a
  LAN or loopback.
- Redirects are followed by hand (at most ``MAX_REDIRECTS``) so a permanent move
  (301/308 all the way) is reported and remembered by the caller.
- gzip/deflate are accepted; the body is read in chunks and refused past ``max_bytes``
  (after decompression, so a gzip bomb stops early) or past the overall deadline.
- 410 Gone, 429/503 with Retry-After and every other failure are a ``SourceError``
  whose message names the URL.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import parse_url
from urllib3.util.connection import allowed_gai_family

from syndicate import __version__
from syndicate.core.errors import SourceError

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 7 * 86400.0
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class BlockedAddress(Exception):
    """The connection reached an address the source may not use."""


def address_allowed(address: str) -> bool:
    """Public unicast addresses only (an IPv4-mapped IPv6 address counts as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _guarded(base: type[Any], allow_private: bool) -> type[Any]:
    class Guarded(base):  # base is chosen at run time
        _dns_host: str  # urllib3's: the name or address the next connect() uses

        def _new_conn(self) -> socket.socket:
            """Resolve first, then connect only to allowed addresses: a private one is
            never connected to, not even for a moment (``allow_private`` lifts this)."""
            if allow_private:
                connection: socket.socket = super()._new_conn()
                return connection
            host = self._dns_host
            addresses = _resolve(self, host)
            allowed = [a for a in addresses if address_allowed(a)]
            if not allowed:
                raise BlockedAddress(
                    f"{self.host} is at {addresses[0]}, a private or local address "
                    "(set allow_private = true on the source to allow it)"
                )
            failure: Exception | None = None
            for address in allowed:  # the name is looked up once; each address is an IP
                self._dns_host = address
                try:
                    sock = super()._new_conn()
                except (NewConnectionError, ConnectTimeoutError) as exc:
                    failure = exc
                    continue
                finally:
                    self._dns_host = host
                return _checked_peer(sock, self.host)
            assert failure is not None
            raise failure

    return Guarded


def _resolve(conn: Any, host: str) -> list[str]:
    """Every address ``host`` resolves to, in getaddrinfo's order (urllib3's families)."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), conn.port, allowed_gai_family(), socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise NewConnectionError(conn, f"{conn.host} resolves to no address")
    return addresses


def _checked_peer(sock: socket.socket, host: str) -> socket.socket:
    """The socket, after checking again that its peer is an allowed address."""
    peer = sock.getpeername()[0]
    if not address_allowed(peer):
        sock.close()
        raise BlockedAddress(f"{host} is at {peer}, a private or local address")
    return sock


def _pool_classes(allow_private: bool) -> dict[str, type[Any]]:
    class Pool(HTTPConnectionPool):
        ConnectionCls = _guarded(HTTPConnection, allow_private)

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = _guarded(HTTPSConnection, allow_private)

    return {"http": Pool, "https": TlsPool}


_POOLS = {flag: _pool_classes(flag) for flag in (False, True)}


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS[self.allow_private]


@dataclass(frozen=True)
class Policy:
    """What one source's requests may do."""

    user_agent: str
    allow_private: bool = False
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024


def user_agent(site_title: str, site_url: str) -> str:
    """``syndicate/0.1.0 (+https://news.example.org/; Example News)``."""
    title = "".join(ch for ch in site_title if ch.isprintable() and ch not in "()\r\n")[:80]
    return f"syndicate/{__version__} (+{site_url}; {title.strip() or 'feed reader'})"


@dataclass
class Response:
    """A 200 or a 304, after redirects."""

    url: str  # where the body came from
    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    moved_to: str | None = None  # the new address when every redirect was permanent

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def parse_http_url(url: str) -> str:
    """``url`` parsed once by urllib3 (requests' own parser): absolute http(s) or an error."""
    try:
        parsed = parse_url(url.strip())
    except LocationParseError:
        raise SourceError(f"{url}: not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SourceError(f"{url}: not an absolute http(s) URL")
    return str(parsed.url)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date), capped at a week."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


@dataclass
class HostPacer:
    """Per-host politeness: at least ``delay`` seconds between two requests to one host."""

    delay: float
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)

    def wait(self, url: str) -> None:
        host = (parse_url(url).host or "").lower()
        last = self._last.get(host)
        if last is not None:
            remaining = self.delay - (self.monotonic() - last)
            if remaining > 0:
                self.sleep(remaining)
        self._last[host] = self.monotonic()


class Client:
    """One pull's HTTP session: guarded adapter, no proxies from the environment."""

    def __init__(
        self,
        policy: Policy,
        pacer: HostPacer | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self.pacer = pacer
        self.now = now
        self.session = requests.Session()
        self.session.trust_env = False  # outbound requests go where config says, not via env
        adapter = _GuardedAdapter(policy.allow_private)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"}
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: str = FEED_ACCEPT,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET ``url``: a 200 with its body or a 304; anything else raises SourceError."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.policy.timeout * 3
        current = parse_http_url(url)
        moved_to: str | None = None
        all_permanent = True
        for _hop in range(MAX_REDIRECTS + 1):
            if self.pacer is not None:
                self.pacer.wait(current)
            response = self._send(current, headers)
            with response:
                status = response.status_code
                location = response.headers.get("Location")
                if status in REDIRECTS and location:
                    target = parse_http_url(urljoin(current, location))
                    all_permanent = all_permanent and status in PERMANENT
                    moved_to = target if all_permanent else None
                    current = target
                    continue
                if status == 304:
                    return Response(current, 304, dict(response.headers), moved_to=moved_to)
                if status == 200:
                    body = self._read(response, current, deadline)
                    return Response(current, 200, dict(response.headers), body, moved_to)
                raise self._failure(response, current)
        raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        """POST ``body`` to ``url`` once: no redirect is followed (a 3xx is an answer
        like any other), and at most ``max_bytes`` of the answer are read."""
        deadline = time.monotonic() + self.policy.timeout * 3
        target = parse_http_url(url)
        response = self._send(target, headers, method="POST", data=body)
        with response:
            answer = self._read(response, target, deadline)
            return Response(target, response.status_code, dict(response.headers), answer)

    def _send(
        self, url: str, headers: dict[str, str], *, method: str = "GET", data: bytes | None = None
    ) -> requests.Response:
        timeout = self.policy.timeout
        try:
            return self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                stream=True,
                timeout=(timeout, timeout),
                allow_redirects=False,
            )
        except BlockedAddress as exc:
            raise SourceError(f"{url}: refused: {exc}") from None
        except requests.Timeout:
            raise SourceError(f"{url}: no answer within {timeout:g} s", temporary=True) from None
        except requests.ConnectionError as exc:
            blocked = _blocked_cause(exc)
            if blocked is not None:
                raise SourceError(f"{url}: refused: {blocked}") from None
            raise SourceError(f"{url}: cannot connect ({_reason(exc)})", temporary=True) from None
        except requests.RequestException as exc:
            raise SourceError(f"{url}: request failed ({_reason(exc)})") from None

    def _read(self, response: requests.Response, url: str, deadline: float) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SourceError(f"{url}: the response is {int(declared):,} bytes, over the limit "
                              f"of {limit:,} (max_bytes)")  # fmt: skip
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    raise SourceError(f"{url}: the response is over the limit of {limit:,} "
                                      "bytes (max_bytes)")  # fmt: skip
                if time.monotonic() > deadline:
                    raise SourceError(f"{url}: the response took too long", temporary=True)
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise SourceError(
                f"{url}: the response broke off ({_reason(exc)})", temporary=True
            ) from None
        return b"".join(chunks)

    def _failure(self, response: requests.Response, url: str) -> SourceError:
        status = response.status_code
        reason = f"HTTP {status} {response.reason or ''}".strip()
        if status == 410:
            return SourceError(f"{url}: {reason}: the feed is gone", gone=True)
        if status in (429, 503):
            wait = retry_after_seconds(response.headers.get("Retry-After"), self.now())
            when = f"; retry after {wait:g} s" if wait is not None else ""
            return SourceError(f"{url}: {reason}{when}", temporary=True, retry_after=wait)
        return SourceError(f"{url}: {reason}", temporary=status >= 500)


def _blocked_cause(exc: BaseException) -> BlockedAddress | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BlockedAddress):
            return current
        seen.add(id(current))
        nested = current.args[0] if current.args else None
        current = (
            nested
            if isinstance(nested, BaseException)
            else (getattr(current, "reason", None) or current.__cause__ or current.__context__)
        )
    return None


def _reason(exc: BaseException) -> str:
    """The innermost useful words of a requests/urllib3 error."""
    text = str(exc)
    for marker in ("Failed to establish a new connection: ", "] "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.rstrip("')\"").strip()[:200] or type(exc).__name__
