"""A WebDAV collection (``type = "webdav"``, ``endpoint_url`` = the collection's URL).

Uploads PUT to a hidden temp name, then MOVE it over the final name with
``Overwrite: T``: the server swaps the resource in one step.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

import requests
from lxml import etree

from syndicate import __version__
from syndicate.publishing.hosts.base import (
    AUTH_HINT,
    DOWN_HINT,
    PERMISSION_HINT,
    SPACE_HINT,
    HostError,
    join_remote,
    parents,
)

_TEMPORARY_STATUS = {408, 423, 425, 429, 500, 502, 503, 504}


class WebDavHost:
    atomic_put = False

    def __init__(
        self,
        name: str,
        *,
        url: str,
        root: str = "",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.base = url.rstrip("/") + "/"
        self.root = root.strip("/")
        self.timeout = timeout
        self._auth = (username, password or "") if username else None
        self._session: requests.Session | None = None
        self._folders: set[str] = set()

    def _url(self, path: str) -> str:
        return self.base + quote(join_remote(self.root, path))

    def _folder_url(self, folder: str) -> str:
        return self.base + quote(folder) + "/"

    def _request(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        if self._session is None:
            self._session = requests.Session()
            self._session.auth = self._auth
            self._session.headers["User-Agent"] = f"syndicate/{__version__}"
        prefix = f"host {self.name!r}: cannot {what}"
        try:
            return self._session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.exceptions.SSLError as exc:
            raise HostError(
                f"{prefix}: TLS failed: {exc}",
                temporary=False,
                hint="install the server's CA certificate (or set REQUESTS_CA_BUNDLE)",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            self._reset()
            raise HostError(
                f"{prefix}: connection failed ({_reason(exc)})", temporary=True, hint=DOWN_HINT
            ) from None
        except requests.exceptions.RequestException as exc:
            self._reset()
            raise HostError(f"{prefix}: {_reason(exc)}", temporary=True) from None

    def _check(self, response: requests.Response, what: str, *, ok: set[int]) -> None:
        status = response.status_code
        if status in ok:
            return
        text = f"host {self.name!r}: cannot {what}: HTTP {status} {response.reason}"
        if status == 401:
            raise HostError(text, temporary=False, hint=AUTH_HINT)
        if status == 403:
            raise HostError(text, temporary=False, hint=PERMISSION_HINT)
        if status == 507:
            raise HostError(f"{text} (out of space)", temporary=False, hint=SPACE_HINT)
        raise HostError(text, temporary=status in _TEMPORARY_STATUS)

    def _ensure_folders(self, path: str) -> None:
        for folder in parents(join_remote(self.root, path)):
            if folder in self._folders:
                continue
            url = self._folder_url(folder)
            response = self._request("MKCOL", url, f"create folder {folder}")
            # 201 made; 405 already there (some servers answer 200 or 301 instead).
            # 409 (a parent is missing) is an error: parents are made outermost first.
            self._check(response, f"create folder {folder}", ok={200, 201, 301, 405})
            self._folders.add(folder)

    def put(self, path: str, data: bytes, content_type: str, cache_control: str) -> None:
        self._ensure_folders(path)
        response = self._request(
            "PUT",
            self._url(path),
            f"upload {path}",
            data=data,
            headers={"Content-Type": content_type},
        )
        self._check(response, f"upload {path}", ok={200, 201, 204})

    def rename(self, source: str, target: str) -> None:
        headers = {"Destination": self._url(target), "Overwrite": "T"}
        response = self._request(
            "MOVE", self._url(source), f"move {source} to {target}", headers=headers
        )
        self._check(response, f"move {source} to {target}", ok={200, 201, 204})

    def delete(self, path: str) -> None:
        response = self._request("DELETE", self._url(path), f"delete {path}")
        self._check(response, f"delete {path}", ok={200, 202, 204, 404})

    def list_files(self, folder: str) -> list[str]:
        where = join_remote(self.root, folder)
        url = self._folder_url(where) if where else self.base
        response = self._request(
            "PROPFIND",
            url,
            f"list {folder or '/'}",
            data=_PROPFIND,
            headers={"Depth": "1", "Content-Type": "application/xml"},
        )
        if response.status_code == 404:
            return []
        self._check(response, f"list {folder or '/'}", ok={207})
        names = []
        try:
            tree = etree.fromstring(response.content, parser=_PARSER)
        except etree.XMLSyntaxError as exc:
            raise HostError(
                f"host {self.name!r}: cannot list {folder or '/'}: unreadable answer ({exc})",
                temporary=True,
            ) from None
        for item in tree.iterfind("{DAV:}response"):
            href = item.findtext("{DAV:}href") or ""
            if item.find(".//{DAV:}resourcetype/{DAV:}collection") is not None:
                continue  # a folder (the listed one among them)
            names.append(unquote(urlsplit(href).path.rstrip("/").rpartition("/")[2]))
        return names

    def _reset(self) -> None:
        session, self._session = self._session, None
        self._folders.clear()
        if session is not None:
            session.close()

    def close(self) -> None:
        self._reset()


_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'
)
# The server is the operator's, but its answer is still parsed defensively.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _reason(exc: BaseException) -> str:
    """The innermost cause, without urllib3's long object reprs."""
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return str(exc).split(": ", 1)[-1] if str(exc) else type(exc).__name__
