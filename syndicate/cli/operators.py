"""CLI commands: ``syndicate operators add|list|remove|reset`` (console accounts)."""

from __future__ import annotations

import sys

import click

from syndicate.cli.base import (
    Obj,
    handle_errors,
    json_option,
    main_group,
    pass_obj,
    print_json,
    print_table,
)
from syndicate.core.db import transaction
from syndicate.service.context import App
from syndicate.web.console import audit
from syndicate.web.console import operators as ops

ACTOR = "cli"


@main_group.group("operators")
def operators_group() -> None:
    """Console accounts: owner, editor, viewer."""


def _read_password() -> str:
    """The first line of stdin, without its line ending (`--password-stdin`)."""
    return sys.stdin.readline().rstrip("\r\n")


def _announce(
    app: App, operator: ops.Operator, token: str | None, as_json: bool, verb: str
) -> None:
    link = ops.setup_link(app.settings.web_base_url, token) if token else None
    if as_json:
        print_json({"operator": operator.as_dict(), "setup_link": link})
        return
    click.echo(f"{operator.email} ({operator.role}): {verb}")
    if link:
        click.echo(f"one-time link to set the password (valid {ops.SETUP_VALID_HOURS} hours):")
        click.echo(link)


@operators_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ops.ROLES), required=True, help="What they may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin, no link.")
@json_option
@pass_obj
@handle_errors
def add_command(obj: Obj, email: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Add a console operator; prints a one-time link to set their password."""
    app = obj.app()
    password = _read_password() if password_stdin else None
    now = app.clock.now()
    with transaction(app.engine) as conn:
        operator, token = ops.add(conn, email, role=role, now=now, password=password)
        audit.record(
            conn, actor=ACTOR, action="operator.add", target=operator.email, now=now,
            after={"role": role},
        )  # fmt: skip
    _announce(app, operator, token, as_json, "added")


@operators_group.command("list")
@json_option
@pass_obj
@handle_errors
def list_command(obj: Obj, as_json: bool) -> None:
    """Every operator, their role, and whether a password and TOTP are set."""
    app = obj.app()
    with app.engine.connect() as conn:
        found = ops.list_operators(conn)
    if as_json:
        print_json([o.as_dict() for o in found])
        return
    print_table(
        None,
        ["email", "role", "password", "totp", "last login"],
        [
            (
                o.email,
                o.role,
                "set" if o.has_password else "not set",
                "on" if o.totp_enabled else "off",
                o.last_login_at.isoformat(timespec="seconds") if o.last_login_at else "never",
            )
            for o in found
        ],
    )


@operators_group.command("remove")
@click.argument("email")
@click.option("--force", is_flag=True, help="Remove even the last owner.")
@pass_obj
@handle_errors
def remove_command(obj: Obj, email: str, force: bool) -> None:
    """Remove an operator; their sessions end at once."""
    app = obj.app()
    with transaction(app.engine) as conn:
        operator = ops.remove(conn, email, allow_last_owner=force)
        audit.record(
            conn, actor=ACTOR, action="operator.remove", target=operator.email,
            now=app.clock.now(), before={"role": operator.role},
        )  # fmt: skip
    click.echo(f"{operator.email}: removed")


@operators_group.command("reset")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@click.option("--clear-totp", is_flag=True, help="Also turn off their second factor.")
@click.option("--role", type=click.Choice(ops.ROLES), default=None, help="Also change the role.")
@json_option
@pass_obj
@handle_errors
def reset_command(
    obj: Obj, email: str, password_stdin: bool, clear_totp: bool, role: str | None, as_json: bool
) -> None:
    """Forget an operator's password and end their sessions; prints a new one-time link."""
    app = obj.app()
    password = _read_password() if password_stdin else None
    now = app.clock.now()
    with transaction(app.engine) as conn:
        before = ops.require(conn, email)
        if role is not None:
            ops.set_role(conn, email, role)
        operator, token = ops.reset(conn, email, now=now, password=password, clear_totp=clear_totp)
        audit.record(
            conn, actor=ACTOR, action="operator.reset", target=operator.email, now=now,
            before={"role": before.role, "totp": before.totp_enabled},
            after={"role": operator.role, "totp": operator.totp_enabled},
        )  # fmt: skip
    _announce(app, operator, token, as_json, "password reset")
