"""API tokens (owners: create, shown once; revoke) and outbound webhooks (everyone
sees receivers and attempts; editors replay a disabled receiver's backlog). The same
``apitokens`` and ``hooks.queue`` functions as ``syndicate api-tokens`` and
``syndicate webhooks``, each change with its audit record."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.db import transaction
from syndicate.core.errors import SyndicateError
from syndicate.delivery.hooks import queue
from syndicate.web.admin.guard import Ctx
from syndicate.web.api import tokens as apitokens
from syndicate.web.console import audit

MAX_FIELD = 400


def _tokens_page(
    ctx: Ctx, created: tuple[str, str] | None = None, status: int = 200
) -> BaseResponse:
    with ctx.web.app.engine.connect() as conn:
        found = apitokens.list_tokens(conn)
    return ctx.page(
        "api_tokens.html",
        status=status,
        title="API tokens",
        tokens=found,
        scopes=apitokens.SCOPES,
        created=created,
    )


def tokens_page(ctx: Ctx) -> BaseResponse:
    return _tokens_page(ctx)


def token_add(ctx: Ctx) -> BaseResponse:
    name = (request.form.get("name") or "").strip()[:MAX_FIELD]
    chosen = [s for s in request.form.getlist("scope") if s in apitokens.SCOPES]
    try:
        with transaction(ctx.web.app.engine) as conn:
            token, secret = apitokens.create(conn, name, chosen, ctx.now)
            audit.record(
                conn, actor=ctx.actor, action="api_token.create", target=f"api token {token.name}",
                now=ctx.now, after={"scopes": list(token.scopes)},
            )  # fmt: skip
    except SyndicateError as exc:
        return ctx.message("Not created", exc.message, status=400)
    return _tokens_page(ctx, created=(token.name, secret))


def token_revoke(ctx: Ctx) -> BaseResponse:
    name = (request.form.get("name") or "")[:MAX_FIELD]
    try:
        with transaction(ctx.web.app.engine) as conn:
            token = apitokens.revoke(conn, name, ctx.now)
            audit.record(
                conn, actor=ctx.actor, action="api_token.revoke",
                target=f"api token {token.name}", now=ctx.now,
            )  # fmt: skip
    except SyndicateError as exc:
        return ctx.message("Not revoked", exc.message, status=400)
    return _tokens_page(ctx)


def webhooks_page(ctx: Ctx, replayed: tuple[str, int] | None = None) -> BaseResponse:
    with ctx.web.app.engine.connect() as conn:
        receivers = queue.endpoints(conn)
        attempts = queue.log(conn, limit=100)
    configured = {hook.url: hook for hook in ctx.web.app.settings.webhooks}
    return ctx.page(
        "webhooks.html",
        title="Webhooks",
        receivers=receivers,
        configured=configured,
        attempts=attempts,
        replayed=replayed,
    )


def webhook_replay(ctx: Ctx) -> BaseResponse:
    url = (request.form.get("url") or "")[:2000]
    if url not in {hook.url for hook in ctx.web.app.settings.webhooks}:
        return ctx.message("Not replayed", "That URL is not a configured webhook.", status=400)
    with transaction(ctx.web.app.engine) as conn:
        count = queue.replay(conn, url, ctx.now)
        audit.record(
            conn, actor=ctx.actor, action="webhook.replay", target=url[:400], now=ctx.now,
            after={"queued": count},
        )  # fmt: skip
    return webhooks_page(ctx, replayed=(url, count))
