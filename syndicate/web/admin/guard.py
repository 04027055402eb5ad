"""Who may enter: the session cookie, the role check, CSRF, login throttling, rendering.

Every console route goes through ``guarded``: no session -> the login page (GET) or
403 (anything else); a role below the route's -> 403; a POST without the session's
CSRF token -> 403. The views never check any of this themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, abort, current_app, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.db import transaction
from syndicate.core.render import render
from syndicate.feeds.lint import LintCache
from syndicate.web.console import attempts, sessions
from syndicate.web.console.operators import Operator
from syndicate.web.console.sessions import Session
from syndicate.web.context import Web, client_ip, web
from syndicate.web.security import same_origin

LOGIN_COOKIE = "syndicate-login"
CSRF_FIELD = "csrf"
# Pages: our stylesheet only, no script; frames only from ourselves (edition preview).
ADMIN_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

# Row ids in URLs and query strings: at most 18 digits, so always below 2**63 (a larger
# number would overflow the database's BIGINT: a 500 instead of "no such row").
_ID = re.compile(r"[0-9]{1,18}")
MAX_ID = 10**18 - 1


def query_id(name: str) -> int | None:
    """An id from the query string: None when absent, 400 when not 1-18 ASCII digits."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not _ID.fullmatch(raw):
        abort(400, f"{name} must be a number")
    return int(raw)


@dataclass
class Console:
    """Per-app console state: when the configuration was loaded (the settings page),
    and the feeds page's lint cache."""

    loaded_at: datetime
    # The feeds page's lint results per file (mtime, size): see feeds/lint.py.
    lint_cache: LintCache = field(default_factory=dict)

    @classmethod
    def build(cls, w: Web) -> Console:
        return cls(loaded_at=w.app.clock.now())


@dataclass
class Ctx:
    """What a console view receives."""

    web: Web
    session: Session | None

    @property
    def operator(self) -> Operator:
        assert self.session is not None
        return self.session.operator

    @property
    def actor(self) -> str:
        return self.operator.email

    @property
    def now(self) -> Any:
        return self.web.app.clock.now()

    def page(self, template: str, /, *, status: int = 200, **context: object) -> BaseResponse:
        return page(self.web, template, self.session, status=status, **context)

    def message(self, title: str, message: str, *, status: int = 200) -> BaseResponse:
        return self.page("message.html", status=status, title=title, message=message)


def console() -> Console:
    found: Console = current_app.extensions["syndicate_console"]
    return found


def secure_cookies(w: Web) -> bool:
    return urlsplit(w.app.settings.web_base_url).scheme == "https"


def cookie_name(w: Web) -> str:
    """``__Host-`` when served over https: the browser then refuses it from http or a subdomain."""
    return "__Host-syndicate-admin" if secure_cookies(w) else "syndicate-admin"


def set_cookie(response: BaseResponse, w: Web, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=secure_cookies(w),
        httponly=True,
        samesite="Lax",
    )


def _limits(w: Web) -> dict[str, timedelta]:
    settings = w.app.settings.web
    return {
        "idle": timedelta(minutes=settings.admin_idle_minutes),
        "absolute": timedelta(hours=settings.admin_session_hours),
    }


def current_session(w: Web) -> Session | None:
    value = request.cookies.get(cookie_name(w))
    if not value:
        return None
    with transaction(w.app.engine) as conn:
        return sessions.load(conn, value, now=w.app.clock.now(), **_limits(w))


def start_session(w: Web, operator_id: int, response: BaseResponse) -> None:
    """Always a new id at login: a cookie planted before login is never promoted."""
    old = request.cookies.get(cookie_name(w))
    with transaction(w.app.engine) as conn:
        if old:
            sessions.destroy(conn, old)
        sessions.purge(conn, now=w.app.clock.now(), **_limits(w))
        value = sessions.create(conn, operator_id, w.app.clock.now())
    set_cookie(response, w, cookie_name(w), value, None)
    response.delete_cookie(LOGIN_COOKIE, path="/")


def end_session(w: Web, response: BaseResponse) -> None:
    value = request.cookies.get(cookie_name(w))
    if value:
        with transaction(w.app.engine) as conn:
            sessions.destroy(conn, value)
    response.delete_cookie(cookie_name(w), path="/", secure=secure_cookies(w), httponly=True)


# -- the login form's CSRF token: a MAC of a random pre-login cookie --------------------


def login_token(w: Web, nonce: str) -> str:
    return hmac.new(w.signer.keys[0], b"admin-login|" + nonce.encode(), hashlib.sha256).hexdigest()


def login_token_ok(w: Web, given: str | None) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    if not nonce or not given:
        return False
    return any(
        hmac.compare_digest(
            hmac.new(key, b"admin-login|" + nonce.encode(), hashlib.sha256).hexdigest().encode(),
            given.encode("utf-8", "replace"),
        )
        for key in w.signer.keys
    )


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def throttled(email_key: str) -> bool:
    """Count one login attempt against the address, and against the account from that
    address, in the store (``console/attempts.py``); True when over. The account's
    limit is per address so that someone guessing from elsewhere cannot lock the real
    operator out."""
    w = web()
    address = client_ip()
    secret = w.signer.keys[0]
    limits = [
        (attempts.key(secret, "address", address), attempts.PER_ADDRESS),
        (attempts.key(secret, "account", email_key, address), attempts.PER_ACCOUNT),
    ]
    with transaction(w.app.engine) as conn:
        return not attempts.allow(conn, limits, w.app.clock.now())


# -- rendering --------------------------------------------------------------------------


def page(
    w: Web, template: str, session: Session | None, *, status: int = 200, **context: Any
) -> BaseResponse:
    settings = w.app.settings
    body = render(
        settings.templates_dir,
        f"admin/{template}",
        site=settings.site,
        url_for=url_for,
        me=session.operator if session else None,
        csrf=session.csrf if session else "",
        endpoint=request.endpoint,
        **context,
    )
    return private(Response(body, status=status, mimetype="text/html"))


# Flask's redirect() is typed as werkzeug's Response; ours are Flask's: both pass through.
AnyResponse = TypeVar("AnyResponse", bound=BaseResponse)


def private(response: AnyResponse) -> AnyResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Content-Security-Policy", ADMIN_CSP)
    return response


def forbidden(w: Web, session: Session | None, message: str) -> BaseResponse:
    return page(w, "message.html", session, status=403, title="Not allowed", message=message)


# -- the guard --------------------------------------------------------------------------


def _form_ok(w: Web, session: Session) -> bool:
    """A state-changing request: from our own pages, carrying this session's token."""
    return same_origin(request, w.app.settings) and sessions.csrf_matches(
        session, request.form.get(CSRF_FIELD)
    )


def guarded(view: Callable[..., BaseResponse], role: str | None) -> Callable[..., BaseResponse]:
    """Wrap a view with the checks its route's role asks for (None: a public page)."""

    def guard(**kwargs: Any) -> BaseResponse:
        if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in kwargs.values()):
            abort(404)  # an <int:...> id no row can have
        w = web()
        if role is None:
            return view(Ctx(w, current_session(w)), **kwargs)
        session = current_session(w)
        if session is None:
            if request.method in ("GET", "HEAD"):
                target = request.full_path if request.query_string else request.path
                return private(redirect(url_for("admin_login", next=target), 303))
            return forbidden(w, None, "Please log in again.")
        if not session.operator.may(role):
            return forbidden(
                w, session, f"This needs the {role} role; you are {session.operator.role}."
            )
        if request.method not in ("GET", "HEAD") and not _form_ok(w, session):
            return forbidden(w, session, "The form has expired. Go back, reload and try again.")
        return view(Ctx(w, session), **kwargs)

    guard.__name__ = view.__name__
    return guard
