"""CLI commands: ``feeds build [NAME]`` (``feeds publish`` lives in cli/publish.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndicate.cli.base import (
    Obj,
    console,
    handle_errors,
    json_option,
    main_group,
    pass_obj,
    print_json,
)

if TYPE_CHECKING:
    from syndicate.core.buildstamp import BuildReport


@main_group.group("feeds")
def feeds_group() -> None:
    """Build the configured feeds (RSS, Atom, JSON Feed) under the feeds folder."""


@feeds_group.command("build")
@click.argument("name", required=False)
@json_option
@pass_obj
@handle_errors
def build(obj: Obj, name: str | None, as_json: bool) -> None:
    """Write every configured feed, or only feed NAME; unchanged files are not rewritten."""
    # local: stdlib only. When the last full build's stamp still holds (one query), the
    # answer comes before pydantic, SQLAlchemy, feedgen and lxml are loaded.
    from syndicate.core.buildstamp import check_unchanged

    unchanged = (
        check_unchanged(obj.config)
        if name is None and (obj.found is None or obj.found.found)
        else None
    )
    if unchanged is not None:
        _print_report(unchanged.report, unchanged.feeds_dir, as_json)
        return
    # local: rich loads only when there is something to build
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from syndicate.feeds import build_feeds
    from syndicate.service.manualruns import prefixed, recorded

    app = obj.app()
    with Progress(
        TextColumn("building feed pages"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console("err"),
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("build", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = recorded(  # status and /metrics show it like a scheduled build
            app,
            "feeds",
            lambda: build_feeds(
                app.engine, app.settings, clock=app.clock, only=name, progress=progress
            ),
            counts=prefixed("build_"),
        )
    _print_report(report, app.settings.feeds_dir, as_json)


def _print_report(report: BuildReport, feeds_dir: Path, as_json: bool) -> None:
    if as_json:
        print_json({"feeds_dir": str(feeds_dir), **report.as_dict()})
        return
    for feed_name, count in sorted(report.entries.items()):
        pages = report.archive_pages.get(feed_name, 0)
        archive = f", {pages} archive page(s)" if pages else ""
        click.echo(f"{feed_name}: {count} entries{archive}")
    click.echo(
        f"{len(report.written)} file(s) written ({report.bytes_written} bytes), "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed "
        f"in {feeds_dir}"
    )
