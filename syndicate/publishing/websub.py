"""WebSub publisher pings: tell each hub that a feed changed, once it is live.

A hub learns of a new version by a form-encoded POST ``hub.mode=publish`` and
``hub.url=<topic>``, where the topic is the feed's ``rel="self"`` URL (the URL the
subscribers know). The hubs to ping are the ones the feed itself advertises, so what
subscribers discovered and what we ping never disagree.

A hub that fails is retried (connection errors, 429, 5xx; ``Retry-After`` honoured up
to a limit) and then reported; it never undoes a push.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

import requests
from lxml import etree

from syndicate import __version__
from syndicate.core.httpdates import parse_retry_after

log = logging.getLogger(__name__)

ATOM_NS = "{http://www.w3.org/2005/Atom}"
MAX_RETRY_AFTER = 60.0  # never wait longer than this for one hub inside a push


@dataclass(frozen=True)
class HubResult:
    hub: str
    topic: str
    ok: bool
    status: int | None = None
    error: str | None = None
    attempts: int = 1


def advertised(data: bytes, relpath: str) -> tuple[str | None, list[str]]:
    """The feed's own ``self`` URL and hub URLs (RSS, Atom or JSON Feed bytes)."""
    if PurePosixPath(relpath).suffix == ".json":
        try:
            feed = json.loads(data)
        except ValueError:
            return None, []
        hubs = [hub.get("url") for hub in feed.get("hubs") or [] if isinstance(hub, dict)]
        return feed.get("feed_url"), [hub for hub in hubs if isinstance(hub, str)]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError:
        return None, []
    # Feed-level links only: Atom's are children of <feed>, RSS's of <channel>.
    holder = root.find("channel") if root.tag == "rss" else root
    links = holder.findall(f"{ATOM_NS}link") if holder is not None else []
    self_url = next((link.get("href") for link in links if link.get("rel") == "self"), None)
    hubs = [link.get("href") for link in links if link.get("rel") == "hub" and link.get("href")]
    return self_url, hubs  # type: ignore[return-value]


def ping_hubs(
    pings: Iterable[tuple[str, str]],
    *,
    timeout: float = 10.0,
    retries: int = 3,
    retry_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[HubResult]:
    """POST ``hub.mode=publish`` for each (hub, topic) pair; one result per pair."""
    results: list[HubResult] = []
    with requests.Session() as session:
        session.headers["User-Agent"] = f"syndicate/{__version__}"
        for hub, topic in pings:
            result = _ping(session, hub, topic, timeout, retries, retry_delay, sleep)
            if result.ok:
                log.info("pinged hub %s for %s", hub, topic)
            else:
                log.warning("hub %s failed for %s: %s", hub, topic, result.error)
            results.append(result)
    return results


def _ping(
    session: requests.Session,
    hub: str,
    topic: str,
    timeout: float,
    retries: int,
    retry_delay: float,
    sleep: Callable[[float], None],
) -> HubResult:
    form = {"hub.mode": "publish", "hub.url": topic}
    error = ""
    status: int | None = None
    for attempt in range(1, retries + 2):
        wait = retry_delay * 2 ** (attempt - 1)
        try:
            response = session.post(hub, data=form, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            status, error = None, f"cannot reach the hub ({type(exc).__name__})"
        else:
            status = response.status_code
            if 200 <= status < 300:
                return HubResult(hub, topic, ok=True, status=status, attempts=attempt)
            error = f"HTTP {status} {response.reason}".strip()
            if status != 429 and status < 500:
                break  # the hub refused this request: sending it again will not help
            wait = max(wait, parse_retry_after(response.headers.get("Retry-After")) or 0.0)
        if attempt <= retries:
            sleep(min(wait, MAX_RETRY_AFTER))
    return HubResult(hub, topic, ok=False, status=status, error=error, attempts=attempt)
