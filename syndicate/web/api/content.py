"""/api/v1/articles, /feeds and /sources: the importer files go through
(``importers.pipeline.import_text``), the feeds folder, the console's push and job
queries, and the jobs the scheduler runs (``jobs.pull_now``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from syndicate.articles import Article, by_ids
from syndicate.core.db import article_tags, articles, job_runs, sources
from syndicate.core.errors import ConfigError, ImportFailure
from syndicate.feeds import formats
from syndicate.intake.importers.pipeline import import_text
from syndicate.service import jobs
from syndicate.web.api import cursors
from syndicate.web.api.guard import ApiCtx, Result
from syndicate.web.api.models import (
    ArticleDetail,
    ArticleOut,
    ArticlePage,
    ArticleQuery,
    ArticleWrite,
    ArticleWritten,
    FeedList,
    FeedOut,
    FeedStatus,
    JobRunOut,
    PullOut,
    PushOut,
    SourceList,
    SourceOut,
)
from syndicate.web.api.problems import Problem, field_problem
from syndicate.web.console import stats


def _article(ctx: ApiCtx, article: Article, detail: bool = False) -> ArticleOut:
    data: dict[str, Any] = {
        "id": article.id,
        "uid": article.uid,
        "slug": article.slug,
        "title": article.title,
        "url": article.url(ctx.app.settings.site.url),
        "summary": article.summary,
        "tags": list(article.tags),
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "draft": article.draft,
    }
    if detail:
        return ArticleDetail(**data, content_html=article.content_html)
    return ArticleOut(**data)


def list_articles(ctx: ApiCtx) -> ArticlePage:
    q: ArticleQuery = ctx.query
    query = select(articles.c.id).order_by(articles.c.id.desc()).limit(q.limit + 1)
    if q.tag:
        query = query.where(
            articles.c.id.in_(select(article_tags.c.article_id).where(article_tags.c.tag == q.tag))
        )
    after = cursors.read("a", q.cursor)
    if after is not None:
        query = query.where(articles.c.id < after)
    with ctx.app.engine.connect() as conn:
        ids: list[int] = list(conn.execute(query).scalars())
        more = len(ids) > q.limit
        ids = ids[: q.limit]
        found = {a.id: a for a in by_ids(conn, ids)}
    return ArticlePage(
        items=[_article(ctx, found[i]) for i in ids if i in found],
        next_cursor=cursors.make("a", ids[-1] if more and ids else None),
    )


def _load(ctx: ApiCtx, article_id: int) -> Article:
    with ctx.app.engine.connect() as conn:
        found = by_ids(conn, [article_id])
    if not found:
        raise Problem(404, f"no article {article_id}")
    return found[0]


def get_article(ctx: ApiCtx, article_id: int) -> ArticleOut:
    return _article(ctx, _load(ctx, article_id), detail=True)


def write_article(ctx: ApiCtx) -> Result:
    """Create or update (same ``name``) through the file importer: sanitised, ids
    minted once, a re-send of the same content is ``unchanged``."""
    body: ArticleWrite = ctx.body
    try:
        outcome = import_text(
            ctx.app.engine,
            ctx.app.settings,
            body.content,
            clock=ctx.app.clock,
            fmt=body.format,
            name=body.name,
        )
    except ImportFailure as exc:
        raise field_problem("content", exc.reason) from None
    with ctx.app.engine.connect() as conn:
        article_id: int = conn.execute(
            select(articles.c.id).where(articles.c.source == f"api:{body.name}")
        ).scalar_one()
    article = _article(ctx, _load(ctx, article_id), detail=True)
    status = 201 if outcome.status == "imported" else 200
    return Result(status, ArticleWritten(article=article, outcome=outcome.status))


def _files(ctx: ApiCtx, path: str, names: list[str]) -> dict[str, datetime | None]:
    root = ctx.app.settings.feeds_dir
    files: dict[str, datetime | None] = {}
    for fmt in names:
        relpath = f"{path}/{formats.get(fmt).file_name}"
        try:
            files[relpath] = datetime.fromtimestamp((root / relpath).stat().st_mtime, UTC)
        except OSError:
            files[relpath] = None
    return files


def list_feeds(ctx: ApiCtx) -> FeedList:
    return FeedList(
        items=[
            FeedOut(
                name=feed.name,
                path=feed.path,
                title=feed.title or ctx.app.settings.site.title,
                formats=list(feed.formats),
                tags=list(feed.tags),
                files=_files(ctx, feed.path, list(feed.formats)),
            )
            for feed in ctx.app.settings.feeds
        ]
    )


def feed_status(ctx: ApiCtx) -> FeedStatus:
    with ctx.app.engine.connect() as conn:
        build = (
            conn.execute(
                select(job_runs).where(job_runs.c.job == "feeds").order_by(job_runs.c.id.desc())
            )
            .mappings()
            .first()
        )
        pushes = stats.last_pushes(conn)
    return FeedStatus(
        last_build=JobRunOut.model_validate(dict(build)) if build else None,
        pushes=[PushOut.model_validate(p) for _, p in sorted(pushes.items())],
    )


def _source(ctx: ApiCtx, name: str, state: dict[str, Any] | None) -> SourceOut:
    configured = ctx.app.settings.source(name)
    state = state or {}
    return SourceOut(
        name=name,
        kind=configured.kind,
        url=configured.url,
        path=configured.path,
        state=state.get("state"),
        detail=state.get("detail"),
        pulled_at=state.get("pulled_at"),
        succeeded_at=state.get("succeeded_at"),
    )


def _states(ctx: ApiCtx) -> dict[str, dict[str, Any]]:
    with ctx.app.engine.connect() as conn:
        return {r["name"]: dict(r) for r in conn.execute(select(sources)).mappings()}


def list_sources(ctx: ApiCtx) -> SourceList:
    states = _states(ctx)
    return SourceList(
        items=[_source(ctx, s.name, states.get(s.name)) for s in ctx.app.settings.sources]
    )


def pull_source(ctx: ApiCtx, name: str) -> PullOut:
    """Pull now, as ``syndicate sources pull NAME``: a claimed job run, so a pull
    already running elsewhere is not started twice (``not-claimed``)."""
    try:
        ctx.app.settings.source(name)
    except ConfigError:
        raise Problem(404, f"no source named {name!r}") from None
    outcome = jobs.pull_now(ctx.app, name)
    return PullOut(
        status=outcome.status,
        error=outcome.error,
        counts=jobs.counts_of(outcome.counts) if outcome.counts else {},
        source=_source(ctx, name, _states(ctx).get(name)),
    )
