"""Login, logout, the one-time set-password page and the operator's own account (TOTP)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from flask import Response, redirect, request, url_for

from syndicate.core.db import transaction
from syndicate.core.errors import SyndicateError
from syndicate.web.admin.guard import (
    LOGIN_COOKIE,
    Ctx,
    end_session,
    login_token,
    login_token_ok,
    new_login_nonce,
    private,
    set_cookie,
    start_session,
    throttled,
)
from syndicate.web.console import audit
from syndicate.web.console import operators as ops

log = logging.getLogger(__name__)
MAX_FIELD = 1100


def _field(name: str) -> str:
    return (request.form.get(name) or "")[:MAX_FIELD]


_NEXT = re.compile(r"/admin/[\x21-\x7e]*")


def safe_next(raw: str | None) -> str:
    """Only a console path of ours: printable ASCII, no ``//`` or backslash anywhere, so
    never another site (no open redirect) nor a control character in ``Location``."""
    if raw and _NEXT.fullmatch(raw) and "//" not in raw and "\\" not in raw:
        return raw
    return url_for("admin_dashboard")


def _login_page(ctx: Ctx, *, error: str | None = None, email: str = "", status: int = 200):
    nonce = request.cookies.get(LOGIN_COOKIE) or new_login_nonce()
    response = ctx.page(
        "login.html",
        status=status,
        title="Log in",
        error=error,
        email=email,
        login_csrf=login_token(ctx.web, nonce),
        next=safe_next(request.values.get("next")),
    )
    set_cookie(response, ctx.web, LOGIN_COOKIE, nonce, 3600)
    return response


def login_form(ctx: Ctx) -> Response:
    if ctx.session is not None:
        return private(redirect(safe_next(request.args.get("next")), 303))
    return _login_page(ctx)


def login(ctx: Ctx) -> Response:
    w = ctx.web
    email, password, code = _field("email"), _field("password"), _field("code")
    if not login_token_ok(w, request.form.get("csrf")):
        return _login_page(
            ctx, error="The form expired; please try again.", email=email, status=403
        )
    try:
        key = ops.email_key(email)
    except SyndicateError:
        key = email.strip().lower()[:320]
    if throttled(key):
        log.warning("console login throttled for an account or address")
        return _login_page(
            ctx, error="Too many attempts. Wait 15 minutes and try again.", email=email, status=429
        )
    with transaction(w.app.engine) as conn:
        operator = ops.authenticate(conn, email, password, code, w.app.clock.now())
        if operator is not None:
            audit.record(conn, actor=operator.email, action="login", target="", now=ctx.now)
    if operator is None:
        log.info("console login failed")
        return _login_page(
            ctx,
            error="Wrong address, password or code.",
            email=email,
            status=401,
        )
    response = private(redirect(safe_next(request.form.get("next")), 303))
    start_session(w, operator.id, response)
    return response


def logout(ctx: Ctx) -> Response:
    response = private(redirect(url_for("admin_login"), 303))
    end_session(ctx.web, response)
    return response


def setup_form(ctx: Ctx, token: str) -> Response:
    with ctx.web.app.engine.connect() as conn:
        operator = ops.setup_operator(conn, token, ctx.now)
    if operator is None:
        return ctx.message(
            "This link does not work",
            "It was used already or has expired. Ask an owner for a new one "
            "(syndicate operators reset EMAIL).",
            status=400,
        )
    nonce = request.cookies.get(LOGIN_COOKIE) or new_login_nonce()
    response = ctx.page(
        "setup.html",
        title="Choose your password",
        who=operator,
        error=None,
        login_csrf=login_token(ctx.web, nonce),
        minimum=ops.MIN_PASSWORD,
    )
    set_cookie(response, ctx.web, LOGIN_COOKIE, nonce, 3600)
    return response


def setup(ctx: Ctx, token: str) -> Response:
    if not login_token_ok(ctx.web, request.form.get("csrf")):
        return ctx.message("The form expired", "Open the link again.", status=403)
    password, again = _field("password"), _field("password2")
    error = None
    if password != again:
        error = "The two passwords differ."
    else:
        try:
            ops.check_password(password)
        except ops.OperatorError as exc:
            error = f"{exc.message}: {exc.hint}"
    if error is None:
        with transaction(ctx.web.app.engine) as conn:
            operator = ops.set_password_with_token(conn, token, password, ctx.now)
            if operator is not None:
                audit.record(
                    conn, actor=operator.email, action="operator.password", target=operator.email,
                    now=ctx.now,
                )  # fmt: skip
        if operator is None:
            return setup_form(ctx, token)
        return ctx.message("Password set", "You can log in now.")
    with ctx.web.app.engine.connect() as conn:
        who = ops.setup_operator(conn, token, ctx.now)
    if who is None:
        return setup_form(ctx, token)
    return ctx.page(
        "setup.html",
        status=400,
        title="Choose your password",
        who=who,
        error=error,
        login_csrf=login_token(ctx.web, request.cookies.get(LOGIN_COOKIE) or ""),
        minimum=ops.MIN_PASSWORD,
    )


# -- the operator's own account: second factor --------------------------------------------


def _pending_mac(key: bytes, session_csrf: str, secret: str) -> str:
    message = f"totp-pending|{session_csrf}|{secret}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _pending_ok(ctx: Ctx, secret: str, given: str) -> bool:
    """The secret came from the account page this session was shown (not a link)."""
    csrf = ctx.session.csrf if ctx.session else ""
    return bool(given) and any(
        hmac.compare_digest(_pending_mac(key, csrf, secret).encode(), given.encode())
        for key in ctx.web.signer.keys
    )


def _account_page(
    ctx: Ctx, *, secret: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    """The account page; a TOTP secret not yet turned on is made here, server-side, and
    rides in the form with a MAC tied to this session, never in the URL."""
    secret = secret if secret and ops.valid_totp_secret(secret) else ops.new_totp_secret()
    return ctx.page(
        "account.html",
        status=status,
        title="Your account",
        secret=secret,
        secret_mac=_pending_mac(
            ctx.web.signer.keys[0], ctx.session.csrf if ctx.session else "", secret
        ),
        uri=ops.totp_uri(secret, ctx.operator.email, ctx.web.app.settings.site.title),
        error=error,
    )


def account(ctx: Ctx) -> Response:
    return _account_page(ctx)


def totp_enable(ctx: Ctx) -> Response:
    secret = _field("secret")
    if not (ops.valid_totp_secret(secret) and _pending_ok(ctx, secret, _field("secret_mac"))):
        return _account_page(
            ctx, error="That key was not issued to you here; use the new key below.", status=400
        )
    with transaction(ctx.web.app.engine) as conn:
        ok = ops.enable_totp(conn, ctx.operator.id, secret, _field("code"), ctx.now)
        if ok:
            audit.record(
                conn, actor=ctx.actor, action="operator.totp", target=ctx.actor, now=ctx.now,
                before={"totp": False}, after={"totp": True},
            )  # fmt: skip
    if not ok:
        return _account_page(
            ctx,
            secret=secret,
            error="That code does not match; check the time on your phone and try again.",
            status=400,
        )
    return ctx.message("Second factor on", "From now on, log in with a code from your app too.")


def totp_disable(ctx: Ctx) -> Response:
    """Turning the second factor off takes the current password or a code: a session
    left open (or stolen) alone cannot remove it. Counted like login attempts."""
    if throttled(ctx.operator.email):
        return _account_page(ctx, error="Too many attempts. Wait 15 minutes.", status=429)
    with transaction(ctx.web.app.engine) as conn:
        ok = ops.confirm(conn, ctx.operator.id, _field("password"), _field("code"), ctx.now)
        if ok:
            ops.disable_totp(conn, ctx.operator.id)
            audit.record(
                conn, actor=ctx.actor, action="operator.totp", target=ctx.actor, now=ctx.now,
                before={"totp": ctx.operator.totp_enabled}, after={"totp": False},
            )  # fmt: skip
    if not ok:
        return _account_page(
            ctx, error="Enter your current password or a code from your app.", status=400
        )
    return ctx.message("Second factor off", "You log in with your password alone now.")
