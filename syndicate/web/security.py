"""Security plumbing shared by the pages: headers, CSRF, rate limit, request origin.

Links in email carry their authority in a signed token, so the pages need no cookies.
CSRF protection for the preferences form is a MAC of the page's token (an attacker
without the link cannot forge it) plus a same-origin check of ``Origin`` and
``Sec-Fetch-Site`` when the browser sends them.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Request, Response

from syndicate.core.clock import Clock
from syndicate.core.config import Settings
from syndicate.core.tokens import Signer, same_secret
from syndicate.web.hosts import is_trusted

# Our own pages: no script at all, styles only from our stylesheet.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Archived editions are email HTML: inline styles and remote images, never script.
EDITION_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
# Feeds, JSON, metrics: nothing to run or embed.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def add_security_headers(response: Response) -> Response:
    """Applied to every response; a view may set a looser CSP of its own (editions)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", DATA_CSP if _is_data(response) else PAGE_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Tokens are in our URLs: never leak them to another site through Referer.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


def _is_data(response: Response) -> bool:
    return not (response.mimetype or "").startswith("text/html")


def csrf_token(signer: Signer, page_token: str) -> str:
    return _csrf_mac(signer.keys[0], page_token)


def _csrf_mac(key: bytes, page_token: str) -> str:
    return hmac.new(key, b"csrf|" + page_token.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_ok(signer: Signer, page_token: str, given: str | None) -> bool:
    if not given:
        return False
    return any(same_secret(given, _csrf_mac(key, page_token)) for key in signer.keys)


def same_origin(request: Request, settings: Settings) -> bool:
    """False only when the browser says the form came from another site.

    ``Sec-Fetch-Site`` decides when sent (every current browser); else ``Origin``. An
    ``Origin: null`` is what our own ``Referrer-Policy: no-referrer`` makes browsers
    send, so it proves nothing either way: the form's CSRF MAC still has to match.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return True
    return is_trusted(urlsplit(origin).netloc, settings)


class RateLimiter:
    """At most ``limit`` hits per key in a sliding ``window``, in this process's memory.

    Bounded: only the ``max_keys`` most recently seen keys are remembered.
    """

    def __init__(
        self, limit: int, window: timedelta, clock: Clock, *, max_keys: int = 10_000
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock.now()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return allowed
