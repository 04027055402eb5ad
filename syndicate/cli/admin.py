"""CLI commands: init, check, db upgrade, status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from syndicate.cli.base import (
    Obj,
    handle_errors,
    json_option,
    main_group,
    out_console,
    pass_obj,
    print_json,
    print_table,
)
from syndicate.cli.sources import print_sources
from syndicate.core.db import current_revision, redact
from syndicate.core.errors import ConfigError, SyndicateError
from syndicate.service.checks import Check
from syndicate.service.status import ago, collect, last_result, last_when


@main_group.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--title", help="The site's name, used in feeds and emails.")
@click.option("--url", help="The site's public URL, like https://news.example.net/.")
@click.option("--timezone", help="IANA time zone, like Europe/Kyiv (default: this machine's).")
@click.option("--from", "sender", help="Sender of the digests: 'Name <address>'.")
@click.option("--templates", is_flag=True, help="Also copy the packaged templates to edit.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.toml.")
@click.option(
    "--no-input",
    is_flag=True,
    help="Never ask; use the flags and defaults (the default when stdin is not a terminal).",
)
@handle_errors
def init(
    directory: Path,
    title: str | None,
    url: str | None,
    timezone: str | None,
    sender: str | None,
    templates: bool,
    force: bool,
    no_input: bool,
) -> None:
    """Write a starter config.toml for your site in DIRECTORY.

    In a terminal it asks for the values the flags do not give."""
    from syndicate.service.scaffold import SiteValues, default_sender, local_timezone, scaffold

    ask = not no_input and sys.stdin.isatty()

    def value(given: str | None, question: str, default: str) -> str:
        if given is not None:
            return given
        return str(click.prompt(question, default=default)) if ask else default

    title = value(title, "Site title", directory.resolve().name.replace("-", " ").title())
    url = value(url, "Public URL of the site", "https://example.org/")
    timezone = value(timezone, "Time zone", local_timezone())
    sender = value(sender, "Digests are sent from", default_sender(title, url))
    written = scaffold(
        directory,
        SiteValues(title=title, url=url, timezone=timezone, sender=sender),
        force=force,
        templates=templates,
    )
    for path in written:
        click.echo(f"wrote {path}")
    cd = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(
        f'next: {cd}syndicate check, then syndicate new "Your first article", '
        "syndicate import articles and syndicate run --once"
    )


@main_group.command()
@json_option
@pass_obj
@handle_errors
def check(obj: Obj, as_json: bool) -> None:
    """Build everything a run builds, without sending; report each check.

    Opens the store, parses templates, builds the mailer, DKIM signer and hosts, builds
    every feed into a scratch folder, lints the built feeds and renders each digest;
    exits 1 if any check failed."""
    from syndicate.service.checks import run_checks

    try:
        settings = obj.load()
    except ConfigError as error:
        if not as_json:
            raise
        print_json({"config": obj.config, "ok": False, "checks": [_config_check(error)]})
        sys.exit(1)
    checks = run_checks(settings, source=str(obj.config), app=obj.app())
    failed = [c for c in checks if c.status == "failed"]
    if as_json:
        print_json(
            {"config": obj.config, "ok": not failed, "checks": [c.as_dict() for c in checks]}
        )
    else:
        _print_checks(obj, checks)
    if failed:
        if as_json:
            sys.exit(1)
        raise SyndicateError(
            f"{len(failed)} of {len(checks)} checks failed: " + ", ".join(c.name for c in failed),
            hint="fix the problems listed above (each names its file or key), "
            "then run `syndicate check` again",
        )


def _config_check(error: ConfigError) -> dict[str, Any]:
    return {
        "name": "config",
        "status": "failed",
        "detail": error.message,
        "problems": error.problems,
    }


_MARK = {
    "ok": ("ok", "green"),
    "warning": ("warn", "yellow"),
    "failed": ("FAIL", "bold red"),
    "skipped": ("skip", "dim"),
}


def _print_checks(obj: Obj, checks: list[Check]) -> None:
    width = max(len(c.name) for c in checks)
    for check in checks:
        mark, style = _MARK[check.status]
        out_console.print(
            Text.assemble((f"{mark:<4}", style), f" {check.name:<{width}}  {check.detail}"),
            soft_wrap=True,
        )
        for problem in check.problems:
            out_console.print(Text(f"     - {problem}"), soft_wrap=True)
    warnings = sum(c.status == "warning" for c in checks)
    if not any(c.status == "failed" for c in checks):
        click.echo(
            f"{obj.config}: ok, {len(checks)} checks"
            + (f", {warnings} with warnings" if warnings else "")
        )


@main_group.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_obj
@handle_errors
def db_upgrade(obj: Obj) -> None:
    """Apply migrations (also done automatically on first use)."""
    app = obj.app()  # its store is migrated on first use
    click.echo(f"{redact(app.settings.database_url)}: at revision {current_revision(app.engine)}")


@db.command("copy")
@click.option("--to", "target_url", required=True, help="SQLAlchemy URL of an empty database.")
@pass_obj
@handle_errors
def db_copy(obj: Obj, target_url: str) -> None:
    """Copy the whole store into another (empty) database, e.g. SQLite -> PostgreSQL."""
    from syndicate.core.db import make_engine
    from syndicate.core.dbcopy import copy_store

    source = obj.app().engine
    target = make_engine(target_url)
    try:
        copied = copy_store(source, target)
    finally:
        target.dispose()
    print_table(None, ["table", "rows"], sorted(copied.items()))
    click.echo(f"copied into {redact(target_url)}; set [database] url to use it")


@main_group.command()
@json_option
@pass_obj
@handle_errors
def status(obj: Obj, as_json: bool) -> None:
    """Next runs, last results, queue depth, failures, pushes and workers."""
    app = obj.app()
    report = collect(app)
    if as_json:
        print_json(report)
        return
    now = report["now"]
    print_table(
        "Jobs",
        ["job", "next run", "last run", "result"],
        [
            (
                job["job"],
                ago(job["next_run"], now) if job["next_run"] else "",
                last_when(job["last"], now),
                last_result(job["last"]),
            )
            for job in report["jobs"]
        ],
    )
    queue = report["queue"]
    out_console.print(
        "Outbox: "
        + (", ".join(f"{state} {count}" for state, count in sorted(queue.items())) or "empty")
    )
    if report["editions"]:
        print_table(
            "Editions",
            ["edition", "digest", "period", "deliveries", "top failures"],
            [
                (
                    e["edition_id"],
                    e["digest"],
                    e["period"][:10],
                    ", ".join(f"{n} {state}" for state, n in e["counts"].items() if n) or "none",
                    "; ".join(f"{reason} ({count})" for reason, count in e["top_failures"][:3]),
                )
                for e in report["editions"]
            ],
        )
    if report["sources"]:
        print_sources(report["sources"], now)
    if report["pushes"]:
        print_table(
            "Feed hosts",
            ["host", "last push", "uploaded", "deleted", "bytes", "error"],
            [
                (
                    p["host"],
                    ago(p["last"]["started_at"], now) if p["last"] else "never",
                    p["last"]["uploaded"] if p["last"] else "",
                    p["last"]["deleted"] if p["last"] else "",
                    p["last"]["bytes"] if p["last"] else "",
                    p["last"]["error"] if p["last"] else "",
                )
                for p in report["pushes"]
            ],
        )
    if report["workers"]:
        print_table(
            "Workers",
            ["id", "host", "role", "heartbeat", "sent", "msgs/s"],
            [
                (
                    w["id"],
                    w["host"],
                    w["role"],
                    ago(w["heartbeat_at"], now),
                    w["sent"],
                    w["per_second"],
                )
                for w in report["workers"]
            ],
        )
    if report["recent_failures"]:
        print_table(
            "Recent failures",
            ["job", "slot", "when", "error"],
            [
                (f["job"], f["slot"], ago(f["finished_at"], now), f["error"])
                for f in report["recent_failures"]
            ],
        )
    if report["stale_claims"]:
        print_table(
            "Stale claims (the process died; the scheduler leader resumes them)",
            ["job", "slot", "started", "holder"],
            [
                (c["job"], c["slot"], ago(c["started_at"], now), c["holder"] or "?")
                for c in report["stale_claims"]
            ],
        )
    leader = report["leader"]
    if leader:
        out_console.print(
            f"Scheduler leader: {leader['holder']}"
            f" (lease until {leader['expires_at']:%Y-%m-%d %H:%M:%S} UTC)",
            markup=False,
        )
