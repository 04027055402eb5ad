"""/api/v1/editions and /api/v1/stats: the console's queries (``console.editions``,
``console.stats``), so the API and the dashboard show the same numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from syndicate.core.db import editions
from syndicate.readers import subscribers as subs
from syndicate.web.api import cursors
from syndicate.web.api.guard import ApiCtx
from syndicate.web.api.models import (
    EditionDetail,
    EditionOut,
    EditionPage,
    EditionQuery,
    EditionStats,
    MessageOut,
    MessageQuery,
    QueueOut,
    StatsOut,
)
from syndicate.web.api.problems import Problem
from syndicate.web.console import editions as console_editions
from syndicate.web.console import stats

_COLUMNS = [editions.c[name] for name in EditionOut.model_fields]


def _stats(reach: stats.Reach | None) -> EditionStats | None:
    if reach is None:
        return None
    return EditionStats(
        deliveries=reach.counts,
        total=reach.total,
        bounced=reach.bounced,
        complained=reach.complained,
        unsubscribed=reach.unsubscribed,
    )


def list_(ctx: ApiCtx) -> EditionPage:
    q: EditionQuery = ctx.query
    query = select(*_COLUMNS).order_by(editions.c.id.desc()).limit(q.limit + 1)
    if q.digest:
        query = query.where(editions.c.digest == q.digest)
    after = cursors.read("e", q.cursor)
    if after is not None:
        query = query.where(editions.c.id < after)
    with ctx.app.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return EditionPage(
        items=[EditionOut.model_validate(r) for r in rows],
        next_cursor=cursors.make("e", rows[-1]["id"] if more and rows else None),
    )


def _detail(conn: Any, row: dict[str, Any]) -> EditionDetail:
    reach = stats.edition_reach(conn, edition_id=row["id"], limit=1)
    fields = {name: row[name] for name in EditionOut.model_fields}
    return EditionDetail(**fields, stats=_stats(reach[0] if reach else None))


def _edition(conn: Any, edition_id: int) -> dict[str, Any]:
    try:
        return console_editions.get(conn, edition_id)
    except console_editions.UnknownEdition:
        raise Problem(404, f"no edition {edition_id}") from None


def get(ctx: ApiCtx, edition_id: int) -> EditionDetail:
    with ctx.app.engine.connect() as conn:
        return _detail(conn, _edition(conn, edition_id))


def message(ctx: ApiCtx, edition_id: int) -> MessageOut:
    """The message as the delivery workers build it for that reader (their own
    unsubscribe and preferences links shown as non-working placeholders)."""
    q: MessageQuery = ctx.query
    with ctx.app.engine.connect() as conn:
        edition = _edition(conn, edition_id)
        subscriber = None
        if q.subscriber_id is not None:
            subscriber = subs.get(conn, q.subscriber_id)
            if subscriber is None:
                raise Problem(
                    422,
                    f"query subscriber_id: no subscriber {q.subscriber_id}",
                    kind="invalid-input",
                    errors=[{"parameter": "subscriber_id", "detail": "no such subscriber"}],
                )
    if edition["status"] != "composed":
        raise Problem(409, f"edition {edition_id} is {edition['status']}: it has no message")
    rendered = console_editions.message_for(ctx.app, edition, subscriber)
    return MessageOut(
        edition_id=edition_id,
        subscriber_id=subscriber.id if subscriber else None,
        subject=str(rendered.message["Subject"] or ""),
        headers=rendered.headers,
        html=rendered.html,
        text=rendered.text,
    )


def dashboard(ctx: ApiCtx) -> StatsOut:
    with ctx.app.engine.connect() as conn:
        counts = subs.counts_by_status(conn)
        waiting = stats.queue(conn)
        recent = stats.edition_reach(conn, limit=10)
        rows = {
            r["id"]: dict(r)
            for r in conn.execute(
                select(*_COLUMNS).where(editions.c.id.in_([r.edition_id for r in recent]))
            ).mappings()
        }
    return StatsOut(
        subscribers=counts,
        queue=QueueOut(depth=waiting.depth, oldest=waiting.oldest),
        editions=[
            EditionDetail(
                **{n: rows[r.edition_id][n] for n in EditionOut.model_fields}, stats=_stats(r)
            )
            for r in recent
        ],
    )
