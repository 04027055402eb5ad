"""Click counts without tracking people (``[stats] clicks = "aggregate"``).

Each outside link in an edition's HTML becomes ``<web>/r/<token>``, where the token is
signed and names only the edition and the URL: every reader of the edition gets the
same link, so a click says which link of which edition, never who. The redirect goes
only to the URL inside a valid token; the count is one row per (edition, link).
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.engine import Connection

from syndicate.core.config import Settings
from syndicate.core.db import dialect_insert, link_clicks
from syndicate.core.errors import TokenError
from syndicate.core.tokens import MAX_TOKEN, Signer
from syndicate.delivery.messages import EditionContent

PURPOSE = "click"
# Old editions stay in mailboxes and their links should keep working; a fixed date keeps
# an edition's links the same for every reader and every render.
NEVER = datetime(2200, 1, 1, tzinfo=UTC)
# Characters a URI may carry as they are (RFC 3986 reserved + unreserved, and "%" of an
# escape already made); everything else, non-ASCII above all, is percent-encoded UTF-8.
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)


def is_on(settings: Settings) -> bool:
    return settings.stats.clicks == "aggregate"


def _countable(url: str) -> bool:
    """An http(s) link the same for every reader: the personal ones (unsubscribe,
    preferences) are still ``@@placeholders@@`` when the edition's HTML is rewritten."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and "@@" not in url


def as_uri(url: str) -> str | None:
    """An IRI as the URI a browser would request: the host in IDNA (punycode), the rest
    percent-encoded UTF-8; None when the host cannot be encoded. Tokens carry this form,
    so a non-ASCII link costs three ASCII characters per byte, not a JSON escape each."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        userinfo, at, hostport = netloc.rpartition("@")
        host, colon, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        netloc = quote(userinfo, safe=_URI_SAFE) + at + host + colon + port
    path, query, fragment = (quote(p, safe=_URI_SAFE) for p in parts[2:])
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def rewrite(html_text: str, *, edition_id: int, settings: Settings, signer: Signer) -> str:
    """The HTML with each countable link through a signed redirect (the same for everyone).
    A link whose token would be longer than ``check`` accepts stays as it is."""
    own = settings.web_base_url

    def swap(match: re.Match[str]) -> str:
        url = as_uri(html.unescape(match.group(2)))
        if url is None or not _countable(url) or url.startswith(f"{own}r/"):
            return match.group(0)
        token = signer.make(PURPOSE, f"{edition_id}|{url}", NEVER)
        if len(token) > MAX_TOKEN:
            return match.group(0)
        return f"{match.group(1)}{own}r/{token}{match.group(3)}"

    return _HREF.sub(swap, html_text)


def counted(settings: Settings, signer: Signer, content: EditionContent) -> EditionContent:
    """An edition's content ready to send: links rewritten when counting is on."""
    if not is_on(settings) or content.edition_id is None:
        return content
    return dataclasses.replace(
        content,
        html=rewrite(content.html, edition_id=content.edition_id, settings=settings, signer=signer),
    )


def resolve(signer: Signer, token: str, now: datetime) -> tuple[int, str]:
    """(edition id, URL) from a click token, or TokenError."""
    checked = signer.check(token, PURPOSE, now=now)
    edition, sep, url = checked.subject.partition("|")
    if not sep or not edition.isdigit() or not _countable(url):
        raise TokenError("this link is not valid")
    return int(edition), url


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def count(conn: Connection, edition_id: int, url: str) -> None:
    """One more click on (edition, link); no time, address or agent is kept."""
    insert = dialect_insert(conn)
    statement = insert(link_clicks).values(
        edition_id=edition_id, url_hash=_url_hash(url), url=url, clicks=1
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["edition_id", "url_hash"],
            set_={"clicks": link_clicks.c.clicks + 1},
        )
    )


def top_links(conn: Connection, edition_id: int, limit: int = 20) -> list[tuple[str, int]]:
    rows = conn.execute(
        select(link_clicks.c.url, link_clicks.c.clicks)
        .where(link_clicks.c.edition_id == edition_id)
        .order_by(link_clicks.c.clicks.desc(), link_clicks.c.url)
        .limit(limit)
    )
    return [(url, clicks) for url, clicks in rows]
