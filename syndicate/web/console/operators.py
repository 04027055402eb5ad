"""Operator accounts: roles, argon2 password hashes, one-time set-password links, TOTP.

An account starts without a password; ``add`` and ``reset`` mint a one-time link token
(only its SHA-256 is stored) that lets the person choose one. Login always runs one
argon2 verification, known address or not, so timing does not reveal who has an account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from syndicate.core.db import operator_sessions, operators
from syndicate.core.errors import SyndicateError
from syndicate.readers.subscribers import InvalidAddress, normalise

ROLES = ("viewer", "editor", "owner")
RANK = {role: index for index, role in enumerate(ROLES)}
SETUP_VALID_HOURS = 48
SETUP_VALID = timedelta(hours=SETUP_VALID_HOURS)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TOTP_PERIOD = 30
TOTP_SECRET = re.compile(r"[A-Z2-7]{16,64}")  # base32, 80 to 320 bits
_CODE = re.compile(r"[0-9]{6}")

_hasher = PasswordHasher()
# Verified against when the address is unknown, so both paths cost one argon2 run.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class OperatorError(SyndicateError):
    hint = "see `syndicate operators list`"


@dataclass(frozen=True)
class Operator:
    id: int
    email: str
    role: str
    has_password: bool
    totp_enabled: bool
    created_at: datetime
    last_login_at: datetime | None

    def may(self, role: str) -> bool:
        """Whether this operator's role is at least ``role``."""
        return RANK[self.role] >= RANK[role]

    def as_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "role": self.role,
            "password": self.has_password,
            "totp": self.totp_enabled,
            "created_at": self.created_at,
            "last_login_at": self.last_login_at,
        }


def _operator(row: object) -> Operator:
    m = row._mapping  # type: ignore[attr-defined]
    return Operator(
        id=m["id"],
        email=m["email"],
        role=m["role"],
        has_password=m["password_hash"] is not None,
        totp_enabled=m["totp_secret"] is not None,
        created_at=m["created_at"],
        last_login_at=m["last_login_at"],
    )


def email_key(raw: str) -> str:
    """Operators log in with their address typed any way: compare it lower-cased."""
    try:
        return normalise(raw).email.lower()
    except InvalidAddress as exc:
        raise OperatorError(exc.message, hint="give the operator's email address") from None


def check_role(role: str) -> str:
    if role not in ROLES:
        raise OperatorError(f"{role!r} is not a role", hint=f"one of: {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise OperatorError(
            f"the password is too short ({len(password)} characters)",
            hint=f"use at least {MIN_PASSWORD} characters; a few random words work well",
        )
    if len(password) > MAX_PASSWORD:
        raise OperatorError("the password is too long", hint=f"at most {MAX_PASSWORD} characters")
    return password


def setup_link(base_url: str, token: str) -> str:
    """The console page where the holder of ``token`` chooses a password."""
    return urljoin(base_url, f"admin/setup/{token}")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- reading ------------------------------------------------------------------------------


def get(conn: Connection, operator_id: int) -> Operator | None:
    row = conn.execute(select(operators).where(operators.c.id == operator_id)).first()
    return _operator(row) if row else None


def find(conn: Connection, email: str) -> Operator | None:
    row = conn.execute(select(operators).where(operators.c.email == email_key(email))).first()
    return _operator(row) if row else None


def require(conn: Connection, email: str) -> Operator:
    found = find(conn, email)
    if found is None:
        raise OperatorError(f"no operator {email!r}")
    return found


def list_operators(conn: Connection) -> list[Operator]:
    return [_operator(r) for r in conn.execute(select(operators).order_by(operators.c.email))]


def owner_count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(operators).where(operators.c.role == "owner")
    ).scalar_one()


# -- changing -----------------------------------------------------------------------------


def add(
    conn: Connection, email: str, *, role: str, now: datetime, password: str | None = None
) -> tuple[Operator, str | None]:
    """A new operator; returns it and the one-time set-password token (None with a password)."""
    key, role = email_key(email), check_role(role)
    values: dict[str, object] = {"email": key, "role": role, "created_at": now}
    if password is not None:
        values |= {"password_hash": _hasher.hash(check_password(password)), "password_set_at": now}
    try:
        with conn.begin_nested():
            operator_id = conn.execute(insert(operators).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        raise OperatorError(
            f"{key} is already an operator", hint="use `syndicate operators reset` for a new link"
        ) from None
    token = None if password is not None else issue_setup(conn, operator_id, now)
    found = get(conn, operator_id)
    assert found is not None
    return found, token


def issue_setup(conn: Connection, operator_id: int, now: datetime) -> str:
    """A new one-time set-password token (an older one stops working)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        update(operators)
        .where(operators.c.id == operator_id)
        .values(setup_hash=_hash_token(token), setup_expires_at=now + SETUP_VALID)
    )
    return token


def reset(
    conn: Connection,
    email: str,
    *,
    now: datetime,
    password: str | None = None,
    clear_totp: bool = False,
) -> tuple[Operator, str | None]:
    """Forget the password (and ends every session); a new link, or the given password."""
    current = require(conn, email)
    values: dict[str, object] = {"password_hash": None, "password_set_at": None}
    if password is not None:
        values = {"password_hash": _hasher.hash(check_password(password)), "password_set_at": now}
    if clear_totp:
        values |= {"totp_secret": None, "totp_last_step": None}
    conn.execute(update(operators).where(operators.c.id == current.id).values(**values))
    end_sessions(conn, current.id)
    token = None if password is not None else issue_setup(conn, current.id, now)
    found = get(conn, current.id)
    assert found is not None
    return found, token


def set_role(conn: Connection, email: str, role: str) -> Operator:
    current = require(conn, email)
    if current.role == "owner" and role != "owner" and owner_count(conn) <= 1:
        raise OperatorError("the last owner cannot be demoted", hint="make another owner first")
    conn.execute(
        update(operators).where(operators.c.id == current.id).values(role=check_role(role))
    )
    found = get(conn, current.id)
    assert found is not None
    return found


def remove(conn: Connection, email: str, *, allow_last_owner: bool = False) -> Operator:
    current = require(conn, email)
    if current.role == "owner" and owner_count(conn) <= 1 and not allow_last_owner:
        raise OperatorError(
            "the last owner cannot be removed", hint="make another owner first, or pass --force"
        )
    conn.execute(delete(operators).where(operators.c.id == current.id))
    return current


def end_sessions(conn: Connection, operator_id: int) -> None:
    conn.execute(delete(operator_sessions).where(operator_sessions.c.operator_id == operator_id))


def setup_operator(conn: Connection, token: str, now: datetime) -> Operator | None:
    """The operator a one-time link names, while it is valid."""
    row = conn.execute(
        select(operators).where(
            operators.c.setup_hash == _hash_token(token), operators.c.setup_expires_at > now
        )
    ).first()
    return _operator(row) if row else None


def set_password_with_token(
    conn: Connection, token: str, password: str, now: datetime
) -> Operator | None:
    """Use a one-time link: set the password, spend the link, end old sessions."""
    found = setup_operator(conn, token, now)
    if found is None:
        return None
    result = conn.execute(
        update(operators)
        .where(operators.c.id == found.id, operators.c.setup_hash == _hash_token(token))
        .values(
            password_hash=_hasher.hash(check_password(password)),
            password_set_at=now,
            setup_hash=None,
            setup_expires_at=None,
        )
    )
    if not result.rowcount:  # spent by a concurrent request
        return None
    end_sessions(conn, found.id)
    return get(conn, found.id)


def authenticate(
    conn: Connection, email: str, password: str, code: str, now: datetime
) -> Operator | None:
    """The operator whose password (and TOTP code, when enabled) match; else None."""
    try:
        key = email_key(email)
    except OperatorError:
        key = ""
    row = conn.execute(select(operators).where(operators.c.email == key)).first()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password[:MAX_PASSWORD]) and stored is not _DUMMY_HASH
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        return None
    if row.totp_secret is not None and not _accept_code(conn, row.id, row.totp_secret, code, now):
        return None
    values: dict[str, object] = {"last_login_at": now}
    if _hasher.check_needs_rehash(stored):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(operators).where(operators.c.id == row.id).values(**values))
    return get(conn, row.id)


# -- second factor ------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def valid_totp_secret(secret: str) -> bool:
    """A secret pyotp can use: base32 without padding, 16 to 64 characters."""
    return TOTP_SECRET.fullmatch(secret) is not None


def totp_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is (this one or its neighbours), else None."""
    code = "".join(code.split())
    if not _CODE.fullmatch(code) or not valid_totp_secret(secret):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // TOTP_PERIOD
    for candidate in (step - 1, step, step + 1):
        if secrets.compare_digest(totp.at(candidate * TOTP_PERIOD).encode(), code.encode()):
            return candidate
    return None


def _accept_code(conn: Connection, operator_id: int, secret: str, code: str, now: datetime) -> bool:
    """A code counts once: a step at or before the last accepted one is refused (replay)."""
    step = _matching_step(secret, code, now)
    if step is None:
        return False
    result = conn.execute(
        update(operators)
        .where(
            operators.c.id == operator_id,
            (operators.c.totp_last_step.is_(None)) | (operators.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(result.rowcount)


def enable_totp(conn: Connection, operator_id: int, secret: str, code: str, now: datetime) -> bool:
    """Turn the second factor on once the operator proves their app has the secret."""
    step = _matching_step(secret, code, now)
    if step is None:
        return False
    conn.execute(
        update(operators)
        .where(operators.c.id == operator_id)
        .values(totp_secret=secret, totp_last_step=step)
    )
    return True


def confirm(conn: Connection, operator_id: int, password: str, code: str, now: datetime) -> bool:
    """The logged-in operator proves it is them again: their current password, or a
    fresh code from their app (which then counts as used)."""
    row = conn.execute(select(operators).where(operators.c.id == operator_id)).first()
    if row is None:
        return False
    if password and row.password_hash:
        try:
            if _hasher.verify(row.password_hash, password[:MAX_PASSWORD]):
                return True
        except (VerificationError, InvalidHashError):
            pass
    return bool(
        code
        and row.totp_secret is not None
        and _accept_code(conn, row.id, row.totp_secret, code, now)
    )


def disable_totp(conn: Connection, operator_id: int) -> None:
    conn.execute(
        update(operators)
        .where(operators.c.id == operator_id)
        .values(totp_secret=None, totp_last_step=None)
    )
