"""Signed, expiring tokens for confirm, unsubscribe and preferences links.

A token says what it may do (``purpose``), for whom (``subject``), and until when.
It is ``base64url(payload) . base64url(hmac_sha256(key, purpose|payload))``: the
purpose is bound into the MAC, so an unsubscribe token can never confirm.
Several keys verify (rotation); the first one signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from syndicate.core.config import Settings
from syndicate.core.db import meta
from syndicate.core.errors import TokenError
from syndicate.core.i18n import N_

PURPOSES = ("confirm", "unsubscribe", "preferences", "click", "bounce", "feed")

# A private feed's URL lives in a feed reader for years: its token never expires (the
# same URL every time) and is revoked by bumping the subscriber's ``feed_key`` instead.
FEED_EXPIRES = datetime(2100, 1, 1, tzinfo=UTC)

MAX_TOKEN = 512  # longest token ``check`` accepts (a token lives in a URL path)


@dataclass(frozen=True)
class Token:
    purpose: str
    subject: str
    expires_at: datetime


def utf8(text: str) -> bytes:
    """Any str as bytes, never an error: JSON lets a sender put lone surrogates in one."""
    return text.encode("utf-8", "surrogatepass")


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time equality of two secrets as UTF-8 bytes.

    ``hmac.compare_digest`` raises TypeError for a ``str`` with non-ASCII characters,
    and what a visitor sends may contain anything.
    """
    a = utf8(given) if isinstance(given, str) else given
    b = utf8(expected) if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, payload: str) -> str:
    digest = hmac.new(key, f"{purpose}|{payload}".encode(), hashlib.sha256).digest()
    return _b64(digest[:24])


COMPACT_MAC = 20  # hex characters: 80 bits of the HMAC
_COMPACT = re.compile(r"(?:0|[1-9a-f][0-9a-f]{0,15})")  # a 64-bit number, no leading zero


# A subject JSON writes as itself between quotes (subscriber ids, the empty subject).
_PLAIN_SUBJECT = re.compile(r"[A-Za-z0-9_.@+-]*")


def _payload(subject: str | int, expires_at: datetime) -> str:
    subject = str(subject)
    expires = int(expires_at.timestamp())
    if _PLAIN_SUBJECT.fullmatch(subject):  # what json.dumps would write, without it
        return _b64(f'["{subject}",{expires}]'.encode())
    return _b64(json.dumps([subject, expires], separators=(",", ":")).encode())


class Signer:
    """Makes and checks tokens with a list of keys; ``keys[0]`` signs."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(k) < 16 for k in keys):
            raise ValueError("signing keys must be at least 16 bytes")
        self.keys = list(keys)
        # The signing key's HMAC with each purpose prefix already absorbed: a token
        # copies one and adds its payload (a mail carries two tokens per recipient).
        self._signing = {
            purpose: hmac.new(self.keys[0], f"{purpose}|".encode(), hashlib.sha256)
            for purpose in PURPOSES
        }
        self._compact = {
            purpose: _pads(self.keys[0], f"{purpose}|".encode()) for purpose in PURPOSES
        }

    def make(self, purpose: str, subject: str | int, expires_at: datetime) -> str:
        return self.make_many((purpose,), subject, expires_at)[0]

    def make_many(
        self, purposes: Sequence[str], subject: str | int, expires_at: datetime
    ) -> list[str]:
        """One token per purpose for the same subject and expiry (one payload for all)."""
        payload = _payload(subject, expires_at)
        tokens = []
        for purpose in purposes:
            base = self._signing.get(purpose)
            if base is None:
                raise ValueError(f"unknown token purpose {purpose!r}")
            mac = base.copy()
            mac.update(payload.encode("ascii"))
            tokens.append(f"{payload}.{_b64(mac.digest()[:24])}")
        return tokens

    def check(self, token: str, purpose: str, *, now: datetime) -> Token:
        """The token's contents, or TokenError when forged, expired or for another purpose."""
        payload, _, mac = token.partition(".")
        if not payload or not mac or len(token) > MAX_TOKEN:
            raise TokenError(N_("this link is not valid"))
        if not any(same_secret(mac, _mac(key, purpose, payload)) for key in self.keys):
            raise TokenError(N_("this link is not valid"))
        try:
            subject, expires = json.loads(_unb64(payload))
            expires_at = datetime.fromtimestamp(int(expires), UTC)
        except (ValueError, TypeError, OverflowError, OSError):
            raise TokenError(N_("this link is not valid")) from None
        if expires_at < now:
            raise TokenError(N_("this link has expired"), hint="ask for a new one")
        return Token(purpose, str(subject), expires_at)

    # -- compact tokens: one number, case-insensitive, for an address's local part ------

    def make_compact(self, purpose: str, number: int) -> str:
        """``<number hex>-<mac hex>``: lowercase hex digits only, so a mail server that
        lowercases (or uppercases) the local part of an address keeps it valid, and
        short (at most 16 + 1 + 20 characters). No expiry: what it names (a delivery
        row) stays what it is, and only a holder of the key can make one. Made once
        per recipient: HMAC-SHA256 from precomputed pad states (RFC 2104), about a
        microsecond, where ``hmac.HMAC.copy`` costs several."""
        pads = self._compact.get(purpose)
        if pads is None or number < 0:
            raise ValueError(f"cannot sign {number!r} for {purpose!r}")
        text = format(number, "x")
        inner, outer = pads[0].copy(), pads[1].copy()
        inner.update(text.encode("ascii"))
        outer.update(inner.digest())
        return f"{text}-{outer.hexdigest()[:COMPACT_MAC]}"

    def check_compact(self, token: str, purpose: str) -> int:
        """The number a compact token carries, in any letter case; TokenError when forged."""
        text, _, mac = token.lower().partition("-")
        if not _COMPACT.fullmatch(text) or len(mac) != COMPACT_MAC:
            raise TokenError("this token is not valid")
        expected = (
            hmac.new(key, f"{purpose}|{text}".encode(), hashlib.sha256).hexdigest()[:COMPACT_MAC]
            for key in self.keys
        )
        if not any(same_secret(mac, good) for good in expected):
            raise TokenError("this token is not valid")
        return int(text, 16)


def _pads(key: bytes, prefix: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner state (with ``prefix`` absorbed) and outer state for ``key``."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(prefix)
    return inner, hashlib.sha256(bytes(b ^ 0x5C for b in key))


def _stored_key(engine: Engine) -> bytes:
    """A random key kept in the store, for installs that set no secret (embedded defaults)."""
    with engine.begin() as conn:
        row = conn.execute(select(meta.c.value).where(meta.c.key == "signing_key")).first()
        if row:
            return str(row[0]).encode()
        value = secrets.token_urlsafe(32)
        try:
            with conn.begin_nested():
                conn.execute(insert(meta).values(key="signing_key", value=value))
        except IntegrityError:
            value = conn.execute(
                select(meta.c.value).where(meta.c.key == "signing_key")
            ).scalar_one()
        return value.encode()


def signer_for(settings: Settings, engine: Engine) -> Signer:
    """The signer the config asks for: the secret's env var, else a key kept in the store."""
    current = os.environ.get(settings.web.secret_env)
    keys = [current.encode()] if current else [_stored_key(engine)]
    if settings.web.previous_secrets_env:
        old = os.environ.get(settings.web.previous_secrets_env, "")
        keys += [k.strip().encode() for k in old.split(",") if k.strip()]
    return Signer(keys)


def feed_token(signer: Signer, subscriber_id: int, feed_key: int) -> str:
    """The private feed token of a subscriber: ``<id>.<feed_key>``, signed."""
    return signer.make("feed", f"{subscriber_id}.{feed_key}", FEED_EXPIRES)


def check_feed_token(signer: Signer, token: str, *, now: datetime) -> tuple[int, int]:
    """(subscriber id, feed key) of a genuine feed token, else TokenError."""
    subject = signer.check(token, "feed", now=now).subject
    first, dot, second = subject.partition(".")
    if not (dot and first.isascii() and first.isdigit() and second.isascii() and second.isdigit()):
        raise TokenError(N_("this link is not valid"))
    if len(first) > 18 or len(second) > 9:
        raise TokenError(N_("this link is not valid"))
    return int(first), int(second)
