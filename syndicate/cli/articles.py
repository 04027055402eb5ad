"""CLI commands: ``import PATH...`` and ``articles list|show|remove``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from syndicate.articles import Article
from syndicate.cli.base import (
    Obj,
    err_console,
    handle_errors,
    json_option,
    main_group,
    out_console,
    pass_obj,
    print_json,
    print_table,
)
from syndicate.cli.sources import import_urls, is_url
from syndicate.core.errors import SyndicateError

if TYPE_CHECKING:  # the importers load lxml and markdown-it: only when importing
    from syndicate.intake.importers.report import ImportReport

PROGRESS_FROM = 5  # show a progress bar from this many files on


class ArticleNotFound(SyndicateError):
    hint = "see `syndicate articles list` for the stored slugs"


def _state(article: Article, now: Any) -> str:
    if article.draft:
        return "draft"
    return "scheduled" if article.published_at > now else "published"


def _as_dict(article: Article, now: Any, *, full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": article.slug,
        "uid": article.uid,
        "title": article.title,
        "state": _state(article, now),
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "author_name": article.author_name,
        "tags": list(article.tags),
        "source": article.source,
        "source_format": article.source_format,
    }
    if full:
        data.update(
            author_email=article.author_email,
            summary=article.summary,
            image_url=article.image_url,
            image_type=article.image_type,
            image_length=article.image_length,
            content_hash=article.content_hash,
            content_html=article.content_html,
            content_text=article.content_text,
        )
    return data


@main_group.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["txt", "md", "html"]),
    default=None,
    help="Read every file as this format (default: from extension and content).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; store nothing.")
@click.option("--verbose", "-v", is_flag=True, help="List every file and entry, not a summary.")
@click.option("--allow-private", is_flag=True, help="URLs: allow private and loopback addresses.")
@json_option
@pass_obj
@handle_errors
def import_command(
    obj: Obj,
    paths: tuple[str, ...],
    fmt: str | None,
    dry_run: bool,
    verbose: bool,
    allow_private: bool,
    as_json: bool,
) -> None:
    """Import article files, folders and CMS exports (WordPress WXR, Ghost JSON, a
    Substack folder), or a feed or page URL (a one-off pull); re-importing updates them.
    Prints a summary; --verbose lists all."""
    from syndicate.intake.importers import import_paths

    urls = [p for p in paths if is_url(p)]
    if urls:
        if dry_run or len(urls) != len(paths):
            raise SyndicateError(
                "import takes either files and folders or URLs, and URLs without --dry-run"
            )
        if not import_urls(obj, urls, allow_private=allow_private, as_json=as_json):
            raise SystemExit(1)
        return
    app = obj.app()
    with (
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=err_console,
            transient=True,
            disable=as_json,
        ) as bar,
        _quiet(PIPELINE_LOGGER),
    ):
        task = bar.add_task("", total=None, visible=False)

        def started(total: int) -> None:
            bar.update(task, total=total, visible=total >= PROGRESS_FROM)

        def advance(path: Path) -> None:
            bar.update(task, advance=1, description=path.name)

        report = import_paths(
            app.engine,
            app.settings,
            [Path(p) for p in paths],
            clock=app.clock,
            fmt=fmt,
            dry_run=dry_run,
            progress=advance,
            started=started,
        )
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report, verbose=verbose)
    if not report.ok:
        err_console.print(
            f"{len(report.failed)} failed; fix them and import again "
            "(everything else was imported)",
            markup=False,
        )
        raise SystemExit(1)


PIPELINE_LOGGER = "syndicate.intake.importers.pipeline"


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """The command prints each failure itself, once: keep the pipeline's log lines
    (meant for the service's log) from repeating them."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _print_report(report: ImportReport, *, verbose: bool) -> None:
    """A summary line and each failure once; with ``verbose`` the full table too."""
    if verbose:
        rows = [
            (o.path, o.status, o.slug or "", o.reason or "; ".join(o.warnings))
            for o in report.outcomes
        ]
        print_table(None, ["file", "result", "slug", "notes"], rows)
    else:
        for outcome in report.failed:
            message = outcome.error.message if outcome.error else outcome.path
            out_console.print(f"failed: {message}", markup=False, soft_wrap=True)
    wanted = ("imported", "updated", "unchanged", "skipped", "failed")
    counts = {k: v for k, v in report.counts.items() if v or (k in wanted and not report.dry_run)}
    summary = ", ".join(f"{count} {status}" for status, count in counts.items())
    warned = sum(1 for o in report.outcomes if o.warnings)
    if warned and not verbose:
        summary += f" ({warned} with warnings: see --verbose)"
    prefix = "dry run (nothing stored): " if report.dry_run else ""
    out_console.print(f"{prefix}{summary}", markup=False)


@main_group.group("articles")
def articles_group() -> None:
    """List, show and remove stored articles."""


@articles_group.command("list")
@json_option
@pass_obj
@handle_errors
def list_command(obj: Obj, as_json: bool) -> None:
    """Every stored article, newest first, drafts and scheduled ones included."""
    from syndicate import articles
    from syndicate.core.db import transaction

    app = obj.app()
    now = app.clock.now()
    with transaction(app.engine) as conn:
        stored = articles.all_articles(conn, bodies=False)
    if as_json:
        print_json([_as_dict(article, now, full=False) for article in stored])
        return
    rows = [
        (
            a.published_at.strftime("%Y-%m-%d %H:%M"),
            _state(a, now),
            a.slug,
            a.title,
            ", ".join(a.tags),
        )
        for a in stored
    ]
    print_table(
        f"{len(stored)} article(s)", ["published (UTC)", "state", "slug", "title", "tags"], rows
    )


@articles_group.command("show")
@click.argument("slug")
@json_option
@pass_obj
@handle_errors
def show_command(obj: Obj, slug: str, as_json: bool) -> None:
    """Print one stored article (by slug, id or uid)."""
    from syndicate import articles
    from syndicate.core.db import transaction

    app = obj.app()
    with transaction(app.engine) as conn:
        article = articles.find(conn, slug)
    if article is None:
        raise ArticleNotFound(f"no article {slug!r}")
    data = _as_dict(article, app.clock.now(), full=True)
    if as_json:
        print_json(data)
        return
    for key in ("title", "slug", "uid", "state", "published_at", "updated_at", "author_name",
                "tags", "source", "image_url", "summary"):  # fmt: skip
        value = data[key]
        if isinstance(value, list):
            value = ", ".join(value)
        out_console.print(f"[bold]{key}:[/] ", end="")
        out_console.print("" if value is None else str(value), markup=False, soft_wrap=True)
    out_console.print()
    out_console.print(article.content_text, markup=False, soft_wrap=True)


@articles_group.command("remove")
@click.argument("slug")
@pass_obj
@handle_errors
def remove_command(obj: Obj, slug: str) -> None:
    """Delete one stored article (its file, if any, is left alone)."""
    from syndicate import articles
    from syndicate.core.db import transaction

    app = obj.app()
    with transaction(app.engine) as conn:
        article = articles.find(conn, slug)
        if article is None:
            raise ArticleNotFound(f"no article {slug!r}")
        articles.remove(conn, article.id)
    out_console.print(f"removed {article.slug} ({article.uid})", markup=False)
