"""CLI commands: ``syndicate subscribers add|remove|list|show|import|export|erase``."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from syndicate.cli.base import (
    Obj,
    err_console,
    handle_errors,
    json_option,
    main_group,
    pass_obj,
    print_json,
    print_table,
)
from syndicate.core.db import deliveries, reading, transaction
from syndicate.core.fileio import write_atomic
from syndicate.readers import csvfile as subscriber_csv
from syndicate.readers import subscribers as subs


@main_group.group("subscribers")
def subscribers_group() -> None:
    """Manage the people who receive the digests."""


def _digests(obj: Obj, chosen: tuple[str, ...]) -> list[str]:
    """The named digests (each must exist), or every configured digest when none named."""
    settings = obj.settings()
    for name in chosen:
        settings.digest(name)  # raises ConfigError naming the configured ones
    return list(chosen) or [d.name for d in settings.digests]


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--digest", "digests", multiple=True, help="Digest to receive (repeat; default all).")
@click.option("--timezone", default=None, help="IANA time zone for digests sent at local time.")
@click.option("--force", is_flag=True, help="Re-subscribe an unsubscribed or suppressed address.")
@click.option(
    "--skip-suppressed",
    is_flag=True,
    help="Leave an unsubscribed, bounced or complained address as it is and exit 0 "
    "(for scripts that run again, like `make run`).",
)
@json_option
@pass_obj
@handle_errors
def add_command(
    obj: Obj,
    email: str,
    name: str,
    digests: tuple[str, ...],
    timezone: str | None,
    force: bool,
    skip_suppressed: bool,
    as_json: bool,
) -> None:
    """Add EMAIL as an active subscriber (you vouch for their consent)."""
    app = obj.app()
    try:
        with transaction(app.engine) as conn:
            subscriber, outcome = subs.add(
                conn,
                email,
                name=name,
                digests=_digests(obj, digests),
                now=app.clock.now(),
                force=force,
                timezone=timezone,
            )
    except subs.SuppressedAddress:
        if not skip_suppressed:
            raise
        with app.engine.connect() as conn:
            subscriber, outcome = subs.require(conn, email), "skipped"
    if as_json:
        print_json({"outcome": outcome, "subscriber": subscriber.as_dict()})
    elif outcome == "skipped":
        click.echo(f"{subscriber.email}: left {subscriber.status}, not subscribed again")
    else:
        click.echo(
            f"{subscriber.email}: {outcome} ({', '.join(subscriber.digests) or 'no digests'})"
        )


@subscribers_group.command("remove")
@click.argument("email")
@pass_obj
@handle_errors
def remove_command(obj: Obj, email: str) -> None:
    """Unsubscribe EMAIL (kept, so it is never mailed again; see `erase` to forget it)."""
    app = obj.app()
    with transaction(app.engine) as conn:
        subscriber = subs.require(conn, email)
        changed = subs.unsubscribe(conn, subscriber.id, app.clock.now(), "removed by operator")
    click.echo(f"{subscriber.email}: {'unsubscribed' if changed else 'was ' + subscriber.status}")


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(subs.STATUSES), default=None)
@click.option("--digest", default=None, help="Only subscribers of this digest.")
@json_option
@pass_obj
@handle_errors
def list_command(obj: Obj, status: str | None, digest: str | None, as_json: bool) -> None:
    """List subscribers."""
    if digest:
        obj.settings().digest(digest)
    with obj.app().engine.connect() as conn:
        found = subs.list_subscribers(conn, status=status, digest=digest)
    if as_json:
        print_json([s.as_dict() for s in found])
        return
    print_table(
        f"{len(found)} subscriber(s)",
        ["email", "name", "status", "digests", "since"],
        [
            (s.email, s.name, s.status, " ".join(s.digests), s.created_at.date().isoformat())
            for s in found
        ],
    )


@subscribers_group.command("show")
@click.argument("email")
@json_option
@pass_obj
@handle_errors
def show_command(obj: Obj, email: str, as_json: bool) -> None:
    """Everything stored about one person."""
    with obj.app().engine.connect() as conn:
        subscriber = subs.require(conn, email)
        sent: dict[str, int] = dict(
            conn.execute(
                select(deliveries.c.status, func.count())
                .where(deliveries.c.subscriber_id == subscriber.id)
                .group_by(deliveries.c.status)
            ).all()
        )
    data = subscriber.as_dict() | {"deliveries": sent}
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        shown = " ".join(value) if isinstance(value, list) else value
        click.echo(f"{key:18} {'' if shown is None else shown}")


@subscribers_group.command("import")
@click.argument(
    "csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)  # or a zip
@click.option("--digest", "digests", multiple=True, help="For rows without digests (default all).")
@click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
@click.option("--force", is_flag=True, help="Re-subscribe unsubscribed and suppressed addresses.")
@json_option
@pass_obj
@handle_errors
def import_command(
    obj: Obj, csv_file: Path, digests: tuple[str, ...], dry_run: bool, force: bool, as_json: bool
) -> None:
    """Import subscribers from CSV_FILE: syndicate's columns (email, and optionally name,
    status, digests, timezone) or a Mailchimp, Substack, Ghost, Buttondown or listmonk
    export (Mailchimp's zip of CSVs too). Unsubscribed, cleaned and bounced people come
    in suppressed. Rejected rows are listed with their line and reason."""
    app = obj.app()
    default = _digests(obj, digests)
    lists = subscriber_csv.read_lists(csv_file)
    total = max(sum(text.count("\n") - 1 for _, text in lists), 1)
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=as_json or not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("rows", total=total)
        with transaction(app.engine) as conn:
            reports = [
                subscriber_csv.import_csv(
                    conn,
                    io.StringIO(text),
                    now=app.clock.now(),
                    known_digests=[d.name for d in app.settings.digests],
                    default_digests=default,
                    dry_run=dry_run,
                    force=force,
                    progress=lambda n: bar.advance(task, n),
                    name=name,
                )
                for name, text in lists
            ]
    report = reports[0]
    if len(reports) > 1:  # a zip of several lists: one report, rows named by their file
        report = subscriber_csv.ImportReport(dry_run=dry_run, source=reports[0].source)
        for (name, _), part in zip(lists, reports, strict=True):
            report.merge(part, name.rsplit(":", 1)[-1])
    if as_json:
        print_json(report.as_dict())
    else:
        verb = "would be" if dry_run else "were"
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        parts = [
            f"{report.added} added",
            f"{report.reactivated} reactivated",
            f"{report.updated} updated",
            f"{report.unchanged} unchanged",
        ]
        if report.pending or report.suppressed:
            parts += [f"{report.pending} pending", f"{report.suppressed} suppressed"]
        parts.append(f"{len(report.rejected)} rejected")
        prefix = f"{report.source} export: " if report.source != "syndicate" else ""
        outcome = f"dry run: nothing {verb} changed" if dry_run else "saved"
        click.echo(f"{prefix}{', '.join(parts)} ({outcome})")
        if report.rejected:
            print_table(
                "rejected rows",
                ["line", "email", "reason"],
                [(line, email, reason) for line, email, reason in report.rejected],
            )


@subscribers_group.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE (default: standard output).",
)
@click.option("--status", type=click.Choice(subs.STATUSES), default=None)
@pass_obj
@handle_errors
def export_command(obj: Obj, out: Path | None, status: str | None) -> None:
    """Export subscribers as CSV (the same columns `import` reads)."""
    # A reading connection: a slow reader of stdout (a pager) holds no lock the
    # running service needs to store sign-ups and deliveries.
    with reading(obj.app().engine) as conn:
        if out is None:
            subscriber_csv.export_csv(conn, sys.stdout, status=status)
            return
        buffer = io.StringIO()
        count = subscriber_csv.export_csv(conn, buffer, status=status)
    write_atomic(out, buffer.getvalue().encode("utf-8"))
    err_console.print(f"{count} subscriber(s) written to {out}", markup=False)


@subscribers_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_obj
@handle_errors
def erase_command(obj: Obj, email: str, yes: bool) -> None:
    """Forget EMAIL completely: their record, choices and address in past deliveries."""
    app = obj.app()
    with app.engine.connect() as conn:
        subscriber = subs.require(conn, email)
    if not yes:
        click.confirm(f"Erase everything about {subscriber.email}?", abort=True)
    with transaction(app.engine) as conn:
        subs.erase(conn, subscriber.email)
    click.echo(f"{subscriber.email}: erased")
