"""CLI commands: ``syndicate api-tokens create|list|revoke`` (scoped API tokens)."""

from __future__ import annotations

import click

from .. import apitokens
from ..console import audit
from ..db import transaction
from .base import Obj, handle_errors, json_option, main_group, pass_obj, print_json, print_table

ACTOR = "cli"


@main_group.group("api-tokens")
def api_tokens_group() -> None:
    """Scoped tokens for the HTTP API (/api/v1/), shown once."""


@api_tokens_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    required=True,
    help=f"Comma-separated scopes: {', '.join(apitokens.SCOPES)}.",
)
@json_option
@pass_obj
@handle_errors
def create_command(obj: Obj, name: str, scopes: str, as_json: bool) -> None:
    """Create a token; it is printed once and only its hash is kept."""
    app = obj.app()
    now = app.clock.now()
    with transaction(app.engine) as conn:
        token, secret = apitokens.create(conn, name, scopes, now)
        audit.record(
            conn, actor=ACTOR, action="api_token.create", target=f"api token {token.name}",
            now=now, after={"scopes": list(token.scopes)},
        )  # fmt: skip
    if as_json:
        print_json({"token": secret, **token.as_dict()})
        return
    click.echo(f"{token.name}: created with scopes {', '.join(token.scopes)}")
    click.echo("the token (shown only now; send it as `Authorization: Bearer TOKEN`):")
    click.echo(secret)


@api_tokens_group.command("list")
@json_option
@pass_obj
@handle_errors
def list_command(obj: Obj, as_json: bool) -> None:
    """Every token: its scopes, when it was last used, whether it is revoked."""
    app = obj.app()
    with app.engine.connect() as conn:
        found = apitokens.list_tokens(conn)
    if as_json:
        print_json([t.as_dict() for t in found])
        return
    print_table(
        None,
        ["name", "prefix", "scopes", "last used", "state"],
        [
            (
                t.name,
                t.prefix,
                ",".join(t.scopes),
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never",
                "revoked " + t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "live",
            )
            for t in found
        ],
    )


@api_tokens_group.command("revoke")
@click.argument("name")
@pass_obj
@handle_errors
def revoke_command(obj: Obj, name: str) -> None:
    """Revoke a token by name; requests with it get 401 from now on."""
    app = obj.app()
    now = app.clock.now()
    with transaction(app.engine) as conn:
        token = apitokens.revoke(conn, name, now)
        audit.record(
            conn, actor=ACTOR, action="api_token.revoke", target=f"api token {token.name}", now=now
        )
    click.echo(f"{token.name}: revoked")
