"""Which Host names the web app answers as: ``web.base_url``'s host and ``web.allowed_hosts``.

The Host header (or, behind ``web.proxies``, X-Forwarded-Host) is the visitor's to
choose. Anything the app builds from it (redirects, ``url_for(_external=True)``,
origin checks) must not echo a host the operator did not configure, so a request
naming another host is answered as if it named the canonical one. Redirects we make
are path-only (RFC 9110 allows a relative Location), so they never carry a host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from syndicate.core.config import Settings

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normal(host: str, scheme: str = "") -> str:
    """``host[:port]`` lowercased, without the default port (of ``scheme``, else of either)."""
    host = host.strip().lower()
    for name, port in _DEFAULT_PORTS.items():
        if scheme in ("", name) and host.endswith(f":{port}"):
            return host[: -len(port) - 1]
    return host


def canonical_host(settings: Settings) -> str:
    parts = urlsplit(settings.web_base_url)
    return _normal(parts.netloc, parts.scheme)


def trusted_hosts(settings: Settings) -> frozenset[str]:
    """The base URL's host and every configured alias, normalised."""
    scheme = urlsplit(settings.web_base_url).scheme
    aliases: Iterable[str] = settings.web.allowed_hosts
    return frozenset({canonical_host(settings), *(_normal(a, scheme) for a in aliases)})


def is_trusted(host: str | None, settings: Settings) -> bool:
    return host is not None and _normal(host) in trusted_hosts(settings)


class TrustedHost:
    """WSGI middleware: a Host outside ``trusted_hosts`` becomes the canonical host."""

    def __init__(self, app: Callable[..., Any], settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings  # read per request: SIGHUP may replace the settings

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        settings = self.settings()
        if not is_trusted(environ.get("HTTP_HOST"), settings):
            environ["HTTP_HOST"] = canonical_host(settings)
        return self.app(environ, start_response)


def path_only(location: str) -> str:
    """An absolute Location made relative (path and query), so no host is ever echoed."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
