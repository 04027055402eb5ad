"""CLI commands: ``sources list|pull [NAME]`` and the URL half of ``import``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

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
from syndicate.service.status import ago


def is_url(argument: str) -> bool:
    """An ``import`` argument that names a web address rather than a file."""
    return argument.lower().startswith(("http://", "https://"))


def print_sources(rows: list[dict[str, Any]], now: datetime) -> None:
    print_table(
        "Sources",
        ["source", "kind", "url or folder", "last pull", "result", "next run"],
        [
            (
                row["name"],
                row["kind"],
                row["url"],
                ago(row["last_pull"], now),
                f"{row['state']}: {row['detail']}" if row["detail"] else row["state"],
                ago(row["next_run"], now) if row["next_run"] else "disabled",
            )
            for row in rows
        ],
    )


def _print_results(results: list[Any]) -> None:
    for result in results:
        out_console.print(f"{result.source}: {result.state}: {result.detail}", markup=False)
        for warning in result.warnings:
            err_console.print(f"  warning: {warning}", markup=False, soft_wrap=True)
        for entry in result.entries:
            if entry.status == "failed":
                err_console.print(f"  failed: {entry.note}", markup=False, soft_wrap=True)


@main_group.group("sources")
def sources_group() -> None:
    """Feed and folder sources pulled on their schedule."""


@sources_group.command("list")
@json_option
@pass_obj
@handle_errors
def list_command(obj: Obj, as_json: bool) -> None:
    """Each source with its last pull, result and next run."""
    from syndicate.intake.sources.report import source_rows

    app = obj.app()
    now = app.clock.now()
    with app.engine.connect() as conn:
        rows = source_rows(conn, app.settings, now)
    if as_json:
        print_json(rows)
    elif rows:
        print_sources(rows, now)
    else:
        out_console.print("no [[sources]] in the config", markup=False)


@sources_group.command("pull")
@click.argument("name", required=False)
@click.option("--force", is_flag=True, help="Pull even a gone source or before Retry-After.")
@json_option
@pass_obj
@handle_errors
def pull_command(obj: Obj, name: str | None, force: bool, as_json: bool) -> None:
    """Pull one source (or every source) now; exit 1 when a pull or an entry failed."""
    from syndicate.intake.sources import pull_source

    app = obj.app()
    names = [name] if name else [s.name for s in app.settings.sources]
    if name:
        app.settings.source(name)  # an unknown name is a one-line error
    results = [
        pull_source(app.engine, app.settings, each, clock=app.clock, force=force) for each in names
    ]
    if as_json:
        print_json([r.to_dict() for r in results])
    else:
        _print_results(results)
    if any(not r.ok for r in results):
        raise SystemExit(1)


def import_urls(obj: Obj, urls: list[str], *, allow_private: bool, as_json: bool) -> bool:
    """``syndicate import URL``: a one-off pull of a feed or a single article page."""
    from syndicate.intake.sources import pull_url

    app = obj.app()
    results = [
        pull_url(app.engine, app.settings, url, clock=app.clock, allow_private=allow_private)
        for url in urls
    ]
    if as_json:
        print_json([r.to_dict() for r in results])
    else:
        for result in results:
            rows = [(e.title or e.guid, e.status, e.slug or "", e.note) for e in result.entries]
            if rows:
                print_table(result.url, ["entry", "result", "slug", "notes"], rows)
        _print_results(results)
    return all(r.ok for r in results)
