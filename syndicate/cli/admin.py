"""CLI commands: init, check, db upgrade, status."""

from __future__ import annotations

from pathlib import Path

import click

from ..checks import all_problems
from ..config import load_settings
from ..db import current_revision, redact
from ..errors import ConfigError
from ..scaffold import scaffold
from ..status import ago, collect
from .base import (
    Obj,
    handle_errors,
    json_option,
    main_group,
    out_console,
    pass_obj,
    print_json,
    print_table,
)


@main_group.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing config.toml.")
@handle_errors
def init(directory: Path, force: bool) -> None:
    """Scaffold config.toml, templates/ and an example article in DIRECTORY."""
    written = scaffold(directory, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: cd {directory} && syndicate check && syndicate import articles")


@main_group.command()
@pass_obj
@handle_errors
def check(obj: Obj) -> None:
    """Validate config, templates, secrets and built feeds; list every problem."""
    settings = load_settings(obj.config)
    problems = all_problems(settings)
    if problems:
        raise ConfigError(f"{obj.config}: {len(problems)} problem(s)", problems=problems)
    click.echo(f"{obj.config}: ok")


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
    from ..db import make_engine
    from ..dbcopy import copy_store

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
        ["job", "schedule", "next run", "last run", "outcome", "counts / error"],
        [
            (
                job["job"],
                job["schedule"] + ("" if job["timezone"] == "UTC" else f" {job['timezone']}"),
                ago(job["next_run"], now),
                ago(job["last"]["started_at"], now) if job["last"] else "never",
                job["last"]["status"] if job["last"] else "",
                (job["last"]["error"] or _counts(job["last"]["counts"])) if job["last"] else "",
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
    leader = report["leader"]
    if leader:
        out_console.print(
            f"Scheduler leader: {leader['holder']}"
            f" (lease until {leader['expires_at']:%Y-%m-%d %H:%M:%S} UTC)",
            markup=False,
        )


def _counts(counts: dict | None) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted((counts or {}).items()))
