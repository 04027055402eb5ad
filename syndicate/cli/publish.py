"""CLI command: ``feeds publish [--target NAME] [--dry-run] [--json]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from syndicate.cli.base import (
    Obj,
    console,
    handle_errors,
    json_option,
    pass_obj,
    print_json,
    print_table,
)
from syndicate.cli.feeds import feeds_group

if TYPE_CHECKING:
    from syndicate.publishing.publish import PushReport


@feeds_group.command("publish")
@click.option("--target", metavar="NAME", help="Only this [[hosts]] entry.")
@click.option("--dry-run", is_flag=True, help="Show what would be uploaded and deleted.")
@json_option
@pass_obj
@handle_errors
def publish_command(obj: Obj, target: str | None, dry_run: bool, as_json: bool) -> None:
    """Push the built feeds to the feed hosts, then ping WebSub hubs.

    Only new and changed files are sent (live feeds last); files no longer built are
    deleted only on hosts with delete = true.
    """
    # local: rich loads only when a command prints (``feeds build`` shares this module)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from syndicate.publishing.publish import PublishFailed, publish
    from syndicate.service.manualruns import prefixed, recorded

    app = obj.app()
    failed: PublishFailed | None = None
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console("err"),
            transient=True,
            disable=as_json or dry_run,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(host: str, done: int, total: int) -> None:
                if host not in tasks:
                    tasks[host] = bar.add_task(f"pushing to {host}", total=total)
                bar.update(tasks[host], completed=done, total=total)

            def push() -> list[PushReport]:
                return publish(
                    app.engine,
                    app.settings,
                    clock=app.clock,
                    target=target,
                    dry_run=dry_run,
                    progress=progress,
                )

            # a real push is recorded like the scheduled one; a dry run changes nothing
            reports = (
                push() if dry_run else recorded(app, "publish", push, counts=prefixed("push_"))
            )
    except PublishFailed as exc:
        failed, reports = exc, exc.reports
    # The bars are gone now: success and failure print the same table the same way.
    show(reports, as_json=as_json, dry_run=dry_run)
    if failed is not None:
        raise failed


def show(reports: list[PushReport], *, as_json: bool, dry_run: bool) -> None:
    if as_json:
        print_json({"dry_run": dry_run, "hosts": [report.as_dict() for report in reports]})
        return
    if dry_run:
        for report in reports:
            click.echo(f"{report.host}: would upload {len(report.uploaded)} file(s):")
            for path in report.uploaded:
                click.echo(f"  + {path}")
            for path in report.deleted:
                click.echo(f"  - {path}")
            for path in report.kept:
                click.echo(f"  = {path} (no longer built; kept, delete = false)")
    print_table(
        "dry run: nothing was changed" if dry_run else None,
        ["host", "uploaded", "skipped", "deleted", "bytes", "hubs pinged", "result"],
        [
            (
                report.host,
                len(report.uploaded),
                report.skipped,
                len(report.deleted),
                report.bytes,
                report.hubs_pinged,
                "failed" if report.error else "ok",
            )
            for report in reports
        ],
    )
    # A feed on several hosts is announced once: so is a hub that failed for it.
    for problem in dict.fromkeys(problem for report in reports for problem in report.hub_errors):
        console("err").print(f"warning: hub not pinged: {problem}", markup=False, soft_wrap=True)
