"""Subscribers: search and page, one person's page, add with consent, suppress,
unsuppress, erase, CSV export. Every change goes through ``syndicate.readers.subscribers`` (as
the CLI's do) and leaves an audit record in the same transaction."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Response, abort, redirect, request, url_for
from sqlalchemy import Connection
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.db import reading, transaction
from syndicate.core.errors import SyndicateError
from syndicate.readers import csvfile as subscriber_csv
from syndicate.readers import subscribers as subs
from syndicate.web.admin.guard import Ctx, private, query_id
from syndicate.web.console import audit, people

MAX_FIELD = 400


def _field(name: str) -> str:
    return (request.form.get(name) or "").strip()[:MAX_FIELD]


def _snapshot(subscriber: subs.Subscriber | None) -> dict[str, Any] | None:
    if subscriber is None:
        return None
    return {"status": subscriber.status, "digests": list(subscriber.digests)}


def _filters() -> dict[str, Any]:
    args = request.args
    status = args.get("status") or None
    return {
        "text": (args.get("q") or "")[:MAX_FIELD],
        "status": status if status in subs.STATUSES else None,
        "digest": (args.get("digest") or None),
        "after": query_id("after"),
    }


def index(ctx: Ctx) -> BaseResponse:
    chosen = _filters()
    with ctx.web.app.engine.connect() as conn:
        found = people.search(conn, **chosen)
        counts = subs.counts_by_status(conn)
    return ctx.page(
        "subscribers.html",
        title="Subscribers",
        page=found,
        chosen=chosen,
        counts=counts,
        statuses=subs.STATUSES,
        digests=[d.name for d in ctx.web.app.settings.digests],
    )


def _load(ctx: Ctx, subscriber_id: int) -> subs.Subscriber:
    with ctx.web.app.engine.connect() as conn:
        found = subs.get(conn, subscriber_id)
    if found is None:
        abort(404)
    return found


def show(ctx: Ctx, subscriber_id: int) -> BaseResponse:
    subscriber = _load(ctx, subscriber_id)
    with ctx.web.app.engine.connect() as conn:
        events = people.history(conn, subscriber)
    return ctx.page(
        "subscriber.html",
        title=subscriber.email,
        subscriber=subscriber,
        events=events,
        suppressed=subscriber.status in subs.SUPPRESSED,
        confirm=request.args.get("confirm"),
    )


def add(ctx: Ctx) -> BaseResponse:
    """Add someone as active: only with a note of how they consented, which is kept."""
    email, name, consent = _field("email"), _field("name"), _field("consent")
    digests = [d for d in request.form.getlist("digest") if d in _digest_names(ctx)]
    if not consent:
        return _add_error(ctx, "Say how this person agreed to receive the newsletter.")
    try:
        with transaction(ctx.web.app.engine) as conn:
            before = subs.find(conn, email)
            subscriber, outcome = subs.add(
                conn, email, name=name, digests=digests or _digest_names(ctx), now=ctx.now
            )
            audit.record(
                conn, actor=ctx.actor, action=f"subscriber.add ({outcome})",
                target=people.target(subscriber.id), now=ctx.now,
                before=_snapshot(before), after={**(_snapshot(subscriber) or {}), "consent": consent},
            )  # fmt: skip
    except SyndicateError as exc:
        return _add_error(ctx, exc.message)
    return private(redirect(url_for("admin_subscriber", subscriber_id=subscriber.id), 303))


def _digest_names(ctx: Ctx) -> list[str]:
    return [d.name for d in ctx.web.app.settings.digests]


def _add_error(ctx: Ctx, message: str) -> BaseResponse:
    return ctx.message("Not added", message, status=400)


def _change(
    ctx: Ctx,
    subscriber_id: int,
    action: str,
    work: Callable[[Connection, subs.Subscriber], object],
    note: dict[str, str] | None = None,
) -> BaseResponse:
    with transaction(ctx.web.app.engine) as conn:
        before = subs.get(conn, subscriber_id)
        if before is None:
            abort(404)
        work(conn, before)
        after = subs.get(conn, subscriber_id)
        audit.record(
            conn, actor=ctx.actor, action=action, target=people.target(subscriber_id),
            now=ctx.now, before=_snapshot(before), after=(_snapshot(after) or {}) | (note or {}),
        )  # fmt: skip
    return private(redirect(url_for("admin_subscriber", subscriber_id=subscriber_id), 303))


def suppress(ctx: Ctx, subscriber_id: int) -> BaseResponse:
    reason = _field("reason") or "suppressed by an operator"
    return _change(
        ctx,
        subscriber_id,
        "subscriber.suppress",
        lambda conn, s: subs.unsubscribe(conn, s.id, ctx.now, f"{reason} ({ctx.actor})"),
        {"reason": reason},
    )


def unsuppress(ctx: Ctx, subscriber_id: int) -> BaseResponse:
    """Mail a suppressed address again: only with the box ticked and a consent note."""
    if request.form.get("confirm") != "yes" or not _field("consent"):
        return ctx.message(
            "Not changed",
            "Tick the box and say how the person agreed to be mailed again.",
            status=400,
        )
    consent = _field("consent")

    def work(conn: Connection, s: subs.Subscriber) -> None:
        subs.add(conn, s.email, digests=s.digests, now=ctx.now, force=True)

    return _change(ctx, subscriber_id, "subscriber.unsuppress", work, {"consent": consent})


def erase(ctx: Ctx, subscriber_id: int) -> BaseResponse:
    if request.form.get("confirm") != "yes":
        return ctx.message("Not erased", "Tick the box to confirm the erasure.", status=400)
    with transaction(ctx.web.app.engine) as conn:
        subscriber = subs.get(conn, subscriber_id)
        if subscriber is None:
            abort(404)
        subs.erase(conn, subscriber.email)
        audit.forget(conn, people.target(subscriber_id))
        audit.record(
            conn, actor=ctx.actor, action="subscriber.erase", target=people.target(subscriber_id),
            now=ctx.now,
        )  # fmt: skip
    return ctx.message("Erased", f"Subscriber {subscriber_id} and their addresses are gone.")


def export(ctx: Ctx) -> BaseResponse:
    """Subscribers as CSV, in the format `syndicate subscribers import` reads (shared code)."""
    status = _filters()["status"]
    out = io.StringIO()
    with reading(ctx.web.app.engine) as conn:  # the list is read without the write lock
        count = subscriber_csv.export_csv(conn, out, status=status)
    with transaction(ctx.web.app.engine) as conn:
        audit.record(
            conn, actor=ctx.actor, action="subscriber.export", target="subscribers",
            now=ctx.now, after={"rows": count, "status": status},
        )  # fmt: skip
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
    return private(response)


MAX_CSV = 2 * 1024 * 1024


def import_csv(ctx: Ctx) -> BaseResponse:
    """Upload a CSV: first a preview of what would change (a dry run, rolled back),
    then the same text posted back with a consent note to apply it."""
    upload = request.files.get("file")
    text = request.form.get("csv") or ""
    if upload is not None and upload.filename:
        raw = upload.read(MAX_CSV + 1)
        if len(raw) > MAX_CSV:
            return ctx.message("Not imported", "The file is over 2 MB; split it.", status=400)
        text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        return ctx.message("Not imported", "Choose a CSV file with an email column.", status=400)
    apply = request.form.get("action") == "apply"
    consent = _field("consent")
    if apply and not consent:
        return ctx.message("Not imported", "Say how these people agreed.", status=400)
    names = _digest_names(ctx)
    try:
        with transaction(ctx.web.app.engine) as conn:
            report = subscriber_csv.import_csv(
                conn,
                io.StringIO(text),
                now=ctx.now,
                known_digests=names,
                default_digests=names,
                dry_run=not apply,
            )
            if apply:
                audit.record(
                    conn, actor=ctx.actor, action="subscriber.import", target="subscribers",
                    now=ctx.now, after=report.as_dict() | {"consent": consent},
                )  # fmt: skip
    except SyndicateError as exc:
        return ctx.message("Not imported", exc.message, status=400)
    return ctx.page(
        "import.html", title="Import subscribers", report=report, csv=text, applied=apply
    )
