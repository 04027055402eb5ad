"""Editions: each with its reach; one opened as a subscriber got it; a test copy; hold or
cancel the rows still queued."""

from __future__ import annotations

from flask import Response, abort, redirect, request, url_for

from syndicate.core.db import transaction
from syndicate.core.errors import SyndicateError
from syndicate.delivery import clicks
from syndicate.readers import subscribers as subs
from syndicate.service import jobs
from syndicate.web.admin.guard import Ctx, private
from syndicate.web.console import audit, stats
from syndicate.web.console import editions as eds

# The edition's HTML, framed by the console: no script, no forms, no navigation, no
# plugins; inline styles and images as a mail client would show them.
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox"
)


def index(ctx: Ctx) -> Response:
    with ctx.web.app.engine.connect() as conn:
        reach = stats.edition_reach(conn, limit=100)
    digests = [d.name for d in ctx.web.app.settings.digests]
    return ctx.page("editions.html", title="Editions", reach=reach, digests=digests)


def _edition(ctx: Ctx, edition_id: int) -> dict:
    try:
        with ctx.web.app.engine.connect() as conn:
            return eds.get(conn, edition_id)
    except eds.UnknownEdition:
        abort(404)


def _subscriber(ctx: Ctx) -> tuple[subs.Subscriber | None, str | None]:
    """The subscriber named by ?as=ADDRESS, or None and why not."""
    wanted = (request.args.get("as") or "").strip()[:320]
    if not wanted:
        return None, None
    try:
        with ctx.web.app.engine.connect() as conn:
            found = subs.find(conn, wanted)
    except subs.InvalidAddress as exc:
        return None, exc.message
    return found, None if found else f"no subscriber {wanted!r}; showing a sample reader"


def show(ctx: Ctx, edition_id: int) -> Response:
    edition = _edition(ctx, edition_id)
    subscriber, problem = _subscriber(ctx)
    rendered = eds.message_for(ctx.web.app, edition, subscriber)
    with ctx.web.app.engine.connect() as conn:
        reach = stats.edition_reach(conn, edition_id=edition_id)
        links = clicks.top_links(conn, edition_id)
    return ctx.page(
        "edition.html",
        title=edition["subject"] or f"Edition {edition_id}",
        edition=edition,
        reach=reach[0] if reach else None,
        subscriber=subscriber,
        problem=problem,
        rendered=rendered,
        wanted=request.args.get("as", ""),
        links=links,
        counting=clicks.is_on(ctx.web.app.settings),
        frame_url=url_for(
            "admin_edition_html",
            edition_id=edition_id,
            **({"as": subscriber.email} if subscriber else {}),
        ),
    )


def frame(ctx: Ctx, edition_id: int) -> Response:
    """The HTML part alone, for the preview iframe (sandboxed twice: attribute and CSP)."""
    edition = _edition(ctx, edition_id)
    subscriber, _ = _subscriber(ctx)
    rendered = eds.message_for(ctx.web.app, edition, subscriber)
    response = private(Response(rendered.html, mimetype="text/html"))
    response.headers["Content-Security-Policy"] = FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def send_test(ctx: Ctx, edition_id: int) -> Response:
    edition = _edition(ctx, edition_id)
    try:
        address = eds.send_test(ctx.web.app, edition, (request.form.get("to") or "")[:320])
    except SyndicateError as exc:
        return ctx.message("Test not sent", exc.message, status=400)
    with transaction(ctx.web.app.engine) as conn:
        audit.record(
            conn, actor=ctx.actor, action="edition.test", target=f"edition {edition_id}",
            now=ctx.now, after={"to": address},
        )  # fmt: skip
    return ctx.message("Test sent", f"A [TEST] copy of this edition went to {address}.")


def hold(ctx: Ctx, edition_id: int) -> Response:
    action = request.form.get("action", "")
    if action not in eds.HOLDS:
        return ctx.message("Nothing done", "Choose pause, resume or cancel.", status=400)
    _edition(ctx, edition_id)
    with transaction(ctx.web.app.engine) as conn:
        changed = eds.hold(conn, edition_id, action, ctx.now)
        audit.record(
            conn, actor=ctx.actor, action=f"edition.{action}", target=f"edition {edition_id}",
            now=ctx.now, after={"rows": changed},
        )  # fmt: skip
    return private(redirect(url_for("admin_edition", edition_id=edition_id), 303))


def compose_now(ctx: Ctx) -> Response:
    """Compose the current period of a digest now and queue it (`syndicate digest send`).
    Idempotent: a period that has its edition already is reported, not sent twice."""
    name = (request.form.get("digest") or "")[:64]
    if name not in {d.name for d in ctx.web.app.settings.digests}:
        return ctx.message("Nothing composed", "Choose a configured digest.", status=400)
    return compose_current(ctx, name)


def compose_current(ctx: Ctx, name: str) -> Response:
    """The one way the console composes a digest (this page and the jobs page's run-now):
    the current period's slot, like `syndicate digest send`, so a second click finds
    the period's edition instead of mailing an off-schedule one."""
    app = ctx.web.app
    try:
        run = jobs.send_digest(app, name)
    except SyndicateError as exc:
        return ctx.message("Nothing composed", exc.message, status=400)
    with transaction(app.engine) as conn:
        audit.record(
            conn, actor=ctx.actor, action="edition.compose", target=name, now=ctx.now,
            after={"status": run.status, "queued": run.queued, "edition": run.edition_id},
        )  # fmt: skip
    if run.edition_id is not None and run.status == "composed":
        return private(redirect(url_for("admin_edition", edition_id=run.edition_id), 303))
    return ctx.message(f"{name}: {run.status}", f"{run.queued} row(s) queued.")
