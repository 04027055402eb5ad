"""Opaque page cursors: the last id of a page, base64url with a kind tag.

Keyset pagination (``id < last``), never OFFSET: page 200 costs what page 1 costs and a
row added meanwhile neither repeats nor skips one. A cursor that does not decode, or
was made for another list, is a 422 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import re

from syndicate.web.api.problems import Problem

_BODY = re.compile(r"([a-z]{1,20}):([0-9]{1,18})")


def make(kind: str, last_id: int | None) -> str | None:
    if last_id is None:
        return None
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def read(kind: str, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        text = ""
    match = _BODY.fullmatch(text)
    if not match or match[1] != kind:
        raise Problem(
            422,
            "query cursor: not a cursor from this list",
            kind="invalid-input",
            errors=[{"parameter": "cursor", "detail": "not a cursor from this list"}],
        )
    return int(match[2])
