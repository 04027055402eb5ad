"""Serving the built feeds folder: cheap to poll, correct to cache.

Strong ``ETag`` = sha256 of the bytes (``-gzip`` suffixed for the gzipped variant),
``Last-Modified`` = the file's mtime (the builder sets it to the newest entry),
``If-None-Match`` wins over ``If-Modified-Since``, ``Vary: Accept-Encoding``,
``Cache-Control`` from ``feedfiles``, and WebSub ``Link`` headers on live feeds: the
hubs and ``self`` URL the served bytes advertise (``websub.advertised``, as the pings
use), so the headers and the document never disagree.
Only regular files below the feeds folder are served; dot files (temp files of an
atomic write) never are.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from flask import Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import http_date, parse_date, parse_etags

from syndicate.core.config import Settings
from syndicate.core.errors import StoreError
from syndicate.core.fileio import sha256_hex
from syndicate.feeds.files import cache_control, is_archive, is_live_feed, media_type
from syndicate.publishing.websub import advertised
from syndicate.readers.audience import Recorder
from syndicate.web.context import Web, client_ip

_COMPRESSIBLE = (
    "text/",
    "application/rss",
    "application/atom",
    "application/feed+json",
    "application/json",
    "application/xml",
    "image/svg",
)
_MIN_GZIP = 256


@dataclass(frozen=True)
class _Cached:
    mtime_ns: int
    size: int
    data: bytes
    sha: str
    gzipped: bytes | None
    advertised: tuple[str | None, list[str]] | None  # (self URL, hubs) of a feed document


class _FileCache:
    """Bytes, hash and gzip per file, reused while (mtime, size) stay the same."""

    def __init__(self, max_files: int = 256) -> None:
        self.max_files = max_files
        self._files: OrderedDict[Path, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, mtime_ns: int, size: int, compressible: bool, feed: bool) -> _Cached:
        with self._lock:
            hit = self._files.get(path)
            if hit and hit.mtime_ns == mtime_ns and hit.size == size:
                self._files.move_to_end(path)
                return hit
        data = path.read_bytes()
        gz = gzip.compress(data, compresslevel=6, mtime=0) if compressible else None
        links = advertised(data, path.name) if feed else None
        entry = _Cached(mtime_ns, len(data), data, sha256_hex(data), gz, links)
        with self._lock:
            self._files[path] = entry
            while len(self._files) > self.max_files:
                self._files.popitem(last=False)
        return entry


log = logging.getLogger(__name__)
_CACHE = _FileCache()
_RECORDER_LOCK = threading.Lock()


def _resolve(root: Path, relpath: str) -> tuple[Path, str] | None:
    if relpath == "" or relpath.endswith("/"):
        relpath += "index.html"
    if "\\" in relpath or "\x00" in relpath:
        return None
    parts = PurePosixPath(relpath).parts
    if not parts or any(p.startswith(".") or p == "/" for p in parts):
        return None
    try:  # a name too long for the file system, a loop of links: not here either
        root = root.resolve()
        path = (root / Path(*parts)).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
    except (OSError, RuntimeError):
        return None
    return path, "/".join(parts)


def link_header(
    settings: Settings, relpath: str, found: tuple[str | None, list[str]] | None
) -> str | None:
    """``rel=hub`` for each WebSub hub the live feed advertises and ``rel=self`` (the
    feed's own, else its public URL); ``found`` is ``websub.advertised`` of the bytes."""
    if found is None or not (is_live_feed(relpath) or is_archive(relpath)):
        return None
    self_url, hubs = found
    links = [f'<{self_url or settings.site.public_feeds_url + relpath}>; rel="self"']
    if is_live_feed(relpath):
        links = [f'<{hub}>; rel="hub"' for hub in dict.fromkeys(hubs)] + links
    return ", ".join(links)


def serve(web: Web, relpath: str = "") -> Response:
    settings = web.app.settings
    found = _resolve(settings.feeds_dir, relpath)
    if found is None:
        abort(404)
    path, relpath = found
    content_type = media_type(relpath)
    feed = is_live_feed(relpath) or is_archive(relpath)
    try:  # a publish may replace or remove the file between the check and the read
        stat = path.stat()
        compressible = content_type.startswith(_COMPRESSIBLE) and stat.st_size >= _MIN_GZIP
        cached = _CACHE.get(path, stat.st_mtime_ns, stat.st_size, compressible, feed)
    except FileNotFoundError:
        abort(404)
    use_gzip = cached.gzipped is not None and request.accept_encodings["gzip"] > 0
    etag = cached.sha + ("-gzip" if use_gzip else "")

    headers = {
        "ETag": f'"{etag}"',
        "Last-Modified": http_date(int(stat.st_mtime)),
        "Cache-Control": cache_control(relpath),
        "Vary": "Accept-Encoding",
    }
    if link := link_header(settings, relpath, cached.advertised):
        headers["Link"] = link
    if is_live_feed(relpath):
        _count_reader(web, relpath)
    if _not_modified(cached.sha, int(stat.st_mtime), web.app.clock.now()):
        response = Response(status=304, headers=headers)
        response.headers.pop("Content-Type", None)
        return response
    body = cached.gzipped if use_gzip else cached.data
    response = Response(body, headers=headers, content_type=content_type)
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    return response


def _count_reader(web: Web, relpath: str) -> None:
    """Tally the request for the audience figures; a store that fails costs the figure
    (one log line), never the feed."""
    agent = request.headers.get("User-Agent", "")[:500]
    try:
        audience_recorder(web).seen(relpath, agent, client_ip(), web.app.clock.now())
    except (StoreError, SQLAlchemyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("feed audience of %s not recorded: %s", relpath, reason[:300])


def audience_recorder(web: Web) -> Recorder:
    """This app's feed audience tally (one per Flask app, like the other web state)."""
    extensions = current_app.extensions
    with _RECORDER_LOCK:
        if "syndicate_audience" not in extensions:
            extensions["syndicate_audience"] = Recorder(web.app.engine)
        return extensions["syndicate_audience"]


def _not_modified(sha: str, mtime: int, now: datetime) -> bool:
    """If-None-Match decides when present (either encoding's tag matches); else the date
    (ignored when it lies in the future, as RFC 9110 asks)."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        etags = parse_etags(if_none_match)
        return etags.contains_weak(sha) or etags.contains_weak(sha + "-gzip")
    since = parse_date(request.headers.get("If-Modified-Since"))
    return since is not None and since <= now and mtime <= since.timestamp()
