"""API tokens: created with a set of scopes, shown once, stored as a SHA-256 hash.

Why SHA-256 and not argon2 (which the console uses for passwords): a token is 32
random bytes (256 bits), so nobody can guess it from a leaked hash however fast the
hash is; a slow, salted hash only protects low-entropy secrets people choose. An
unsalted fast hash also lets every request find its token through the unique index
in one lookup, where argon2 would cost tens of milliseconds of CPU per API call (an
easy way to exhaust the server) and need a scan over salted rows. The stored hash is
still compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from syndicate.core.db import api_tokens
from syndicate.core.errors import BadInput, SyndicateError

# Every scope a route can ask for; `read` never implies `write` or the reverse.
SCOPES = (
    "subscribers:read",
    "subscribers:write",
    "editions:read",
    "articles:read",
    "articles:write",
    "feeds:read",
    "stats:read",
    "sources:read",
    "sources:write",
)
PREFIX = "syn_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}")
_TOKEN = re.compile(r"syn_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}")
# last_used_at is written at most this often per token (not a write per request).
TOUCH_EVERY = timedelta(minutes=1)


class UnknownToken(SyndicateError):
    hint = "see `syndicate api-tokens list`"


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": list(self.scopes),
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def parse_scopes(raw: str | list[str]) -> tuple[str, ...]:
    """``"subscribers:read,stats:read"`` -> a sorted tuple; an unknown scope is an error."""
    items = raw.split(",") if isinstance(raw, str) else raw
    chosen = sorted({item.strip() for item in items if item.strip()})
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise BadInput(
            f"unknown scope {unknown[0]!r}" if unknown else "give at least one scope",
            hint=f"scopes: {', '.join(SCOPES)}",
        )
    return tuple(chosen)


def _row(row: object) -> ApiToken:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    return ApiToken(
        id=data["id"],
        name=data["name"],
        prefix=data["prefix"],
        scopes=tuple(data["scopes"]),
        created_at=data["created_at"],
        last_used_at=data["last_used_at"],
        revoked_at=data["revoked_at"],
    )


def create(
    conn: Connection, name: str, scopes: str | list[str], now: datetime
) -> tuple[ApiToken, str]:
    """A new token; returns the row and the token itself (never stored, shown once)."""
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise BadInput(
            f"{name[:40]!r} is not a token name", hint="1-100 letters, digits, space . _ -"
        )
    chosen = parse_scopes(scopes)
    prefix = secrets.token_urlsafe(6)[:8].ljust(8, "x")
    token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with conn.begin_nested():
            token_id: int = conn.execute(
                insert(api_tokens)
                .values(
                    name=name,
                    token_hash=digest(token),
                    prefix=f"{PREFIX}{prefix}",
                    scopes=list(chosen),
                    created_at=now,
                )
                .returning(api_tokens.c.id)
            ).scalar_one()
    except IntegrityError:
        raise BadInput(f"a token named {name!r} exists", hint="choose another name") from None
    return get(conn, int(token_id)), token


def get(conn: Connection, token_id: int) -> ApiToken:
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise UnknownToken(f"no API token {token_id}")
    return _row(row)


def list_tokens(conn: Connection) -> list[ApiToken]:
    return [_row(r) for r in conn.execute(select(api_tokens).order_by(api_tokens.c.id))]


def revoke(conn: Connection, name: str, now: datetime) -> ApiToken:
    """Revoke by name; the token stops working at its next request."""
    row = conn.execute(select(api_tokens).where(api_tokens.c.name == name)).first()
    if row is None:
        raise UnknownToken(f"no API token named {name!r}")
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == row.id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return get(conn, row.id)


def authenticate(conn: Connection, presented: str, now: datetime) -> ApiToken | None:
    """The live token ``presented`` is, or None (unknown, malformed or revoked)."""
    if not _TOKEN.fullmatch(presented or ""):
        return None
    hashed = digest(presented)
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == hashed)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash.encode(), hashed.encode()):
        return None
    token = _row(row)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token.id).values(last_used_at=now))
    return token
