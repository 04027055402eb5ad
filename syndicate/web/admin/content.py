"""Articles (list, search, one article, where it went) and feeds with their hosts."""

from __future__ import annotations

from flask import abort, request
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response as BaseResponse

from syndicate import articles
from syndicate.core.db import articles as articles_table
from syndicate.core.db import edition_articles, editions, transaction
from syndicate.core.errors import SyndicateError
from syndicate.feeds import lint
from syndicate.publishing.hosts.manifest import pushed_files
from syndicate.publishing.publish import PublishFailed, publish
from syndicate.web.admin.guard import Ctx, console
from syndicate.web.console import audit, stats

PAGE = 50
MAX_FILES = 500  # the feeds page lists this many files at most


def index(ctx: Ctx) -> BaseResponse:
    text = (request.args.get("q") or "").strip()[:200]
    query = (
        select(
            articles_table.c.id,
            articles_table.c.slug,
            articles_table.c.title,
            articles_table.c.published_at,
            articles_table.c.draft,
        )
        .order_by(articles_table.c.published_at.desc(), articles_table.c.id.desc())
        .limit(PAGE)
    )
    if text:
        pattern = "%" + text.lower().replace("%", "").replace("_", "") + "%"
        query = query.where(
            or_(
                func.lower(articles_table.c.title).like(pattern),
                func.lower(articles_table.c.slug).like(pattern),
            )
        )
    with ctx.web.app.engine.connect() as conn:
        rows = list(conn.execute(query).mappings())
    return ctx.page("articles.html", title="Articles", rows=rows, q=text)


def show(ctx: Ctx, article_id: int) -> BaseResponse:
    with ctx.web.app.engine.connect() as conn:
        found = articles.by_ids(conn, [article_id])
        carried = list(
            conn.execute(
                select(editions.c.id, editions.c.digest, editions.c.period, editions.c.subject)
                .join(edition_articles, edition_articles.c.edition_id == editions.c.id)
                .where(edition_articles.c.article_id == article_id)
                .order_by(editions.c.id.desc())
            ).mappings()
        )
    if not found:
        abort(404)
    article = found[0]
    settings = ctx.web.app.settings
    feeds = [f.name for f in settings.feeds if not f.tags or set(f.tags) & set(article.tags)]
    return ctx.page(
        "article.html", title=article.title, article=article, editions=carried, feeds=feeds
    )


def feeds(ctx: Ctx) -> BaseResponse:
    """Every built file with its size, entry count and lint result, when each host got
    it last (and whether that copy is the current one), and every host's last push.
    Lint results are cached per file by mtime and size: a view after an unchanged
    build reads no feed again."""
    settings = ctx.web.app.settings
    root = settings.feeds_dir
    sizes: dict[str, int] = {}
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                sizes[path.relative_to(root).as_posix()] = path.stat().st_size
                if len(sizes) >= MAX_FILES:
                    break
    checks = lint.check_tree(settings, cache=console().lint_cache)
    with ctx.web.app.engine.connect() as conn:
        pushes = stats.last_pushes(conn)
        landed = pushed_files(conn, list(sizes))
    host_names = [h.name for h in settings.hosts]
    files = []
    for relpath, size in sizes.items():
        check = checks.get(relpath)
        on_hosts = []
        for host in host_names:
            copy = landed.get((host, relpath))
            current = copy is not None and check is not None and copy[0] == check.sha256
            on_hosts.append((copy[1] if copy else None, current if check else None))
        files.append((relpath, size, check, on_hosts))
    hosts = [(h.name, h.type, pushes.get(h.name)) for h in settings.hosts]
    return ctx.page(
        "feeds.html", title="Feeds and hosts", files=files, hosts=hosts, host_names=host_names,
        republish=True, shown=MAX_FILES,
    )  # fmt: skip


def republish(ctx: Ctx) -> BaseResponse:
    """Push the built feeds to one host now (what `syndicate publish --target` does)."""
    name = (request.form.get("host") or "")[:64]
    if name not in {h.name for h in ctx.web.app.settings.hosts}:
        return ctx.message("Nothing pushed", "Choose a configured host.", status=400)
    try:
        app = ctx.web.app
        [report] = publish(app.engine, app.settings, clock=app.clock, target=name)
        outcome, status = f"{report.uploaded} file(s) uploaded, {report.skipped} unchanged.", 200
    except PublishFailed as exc:
        outcome, status = exc.message, 502
    except SyndicateError as exc:
        outcome, status = exc.message, 400
    with transaction(ctx.web.app.engine) as conn:
        audit.record(
            conn, actor=ctx.actor, action="host.republish", target=name, now=ctx.now,
            after={"outcome": outcome},
        )  # fmt: skip
    return ctx.message(f"Pushed to {name}" if status == 200 else "Push failed", outcome,
                       status=status)  # fmt: skip
