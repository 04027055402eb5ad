"""CLI commands: ``syndicate api-tokens create|list|revoke`` (scoped API tokens) and
``syndicate webhooks log|status|replay|deliver`` (outbound webhooks)."""

from __future__ import annotations

import threading

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
from syndicate.core.errors import BadInput
from syndicate.delivery.hooks import drain, queue
from syndicate.web.api import tokens as apitokens
from syndicate.web.console import audit

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


@main_group.group("webhooks")
def webhooks_group() -> None:
    """Outbound webhooks: delivery attempts, receivers' state, backlog replay."""


@webhooks_group.command("log")
@click.option("--url", default=None, help="Only this receiver.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@pass_obj
@handle_errors
def webhooks_log_command(obj: Obj, url: str | None, limit: int, as_json: bool) -> None:
    """The newest delivery attempts: when, where, which event, the answer."""
    app = obj.app()
    with app.engine.connect() as conn:
        found = queue.log(conn, url=url, limit=limit)
    if as_json:
        print_json(found)
        return
    print_table(
        None,
        ["at", "url", "event", "webhook-id", "answer", "delivery"],
        [
            (
                a["at"].isoformat(timespec="seconds"),
                a["url"],
                a["type"],
                a["webhook_id"],
                a["error"] or f"HTTP {a['status_code']}",
                f"{a['delivery_status']} ({a['attempts']} tries)",
            )
            for a in found
        ],
    )


@webhooks_group.command("status")
@json_option
@pass_obj
@handle_errors
def webhooks_status_command(obj: Obj, as_json: bool) -> None:
    """Each receiver: active or disabled (and why), its deliveries by state."""
    app = obj.app()
    with app.engine.connect() as conn:
        found = queue.endpoints(conn)
    configured = {hook.url for hook in app.settings.webhooks}
    if as_json:
        print_json([e | {"configured": e["url"] in configured} for e in found])
        return
    print_table(
        None,
        ["url", "state", "deliveries", "reason"],
        [
            (
                e["url"] + ("" if e["url"] in configured else " (not configured)"),
                e["state"],
                ", ".join(f"{k} {v}" for k, v in sorted(e["deliveries"].items())),
                e["reason"] or "",
            )
            for e in found
        ],
    )


@webhooks_group.command("replay")
@click.argument("url")
@pass_obj
@handle_errors
def webhooks_replay_command(obj: Obj, url: str) -> None:
    """Enable a disabled receiver and send its held and failed events again."""
    app = obj.app()
    if url not in {hook.url for hook in app.settings.webhooks}:
        raise BadInput(
            f"no [[webhooks]] entry with url {url!r}", hint="see `syndicate webhooks status`"
        )
    with transaction(app.engine) as conn:
        count = queue.replay(conn, url, app.clock.now())
        audit.record(
            conn, actor=ACTOR, action="webhook.replay", target=url[:400], now=app.clock.now(),
            after={"queued": count},
        )  # fmt: skip
    click.echo(f"{url}: enabled; {count} event(s) queued again")


@webhooks_group.command("deliver")
@click.option("--once", is_flag=True, help="One pass, then exit (else until interrupted).")
@pass_obj
@handle_errors
def webhooks_deliver_command(obj: Obj, once: bool) -> None:
    """Post due webhook events (`syndicate run` does this itself)."""
    app = obj.app()
    if once:
        counts = drain.drain_once(app)
        click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do")
        return
    stop = threading.Event()
    try:
        drain.run(app, stop)
    except KeyboardInterrupt:
        stop.set()
