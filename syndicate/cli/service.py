"""CLI commands: run (the service), worker (delivery only), serve (web only)."""

from __future__ import annotations

import logging
from typing import Any

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
from syndicate.service import jobs
from syndicate.service.context import App
from syndicate.service.run import Parts, Service
from syndicate.service.status import last_result

log = logging.getLogger(__name__)


def web_server(app: App, host: str, port: int, surface: str = "all") -> Any:
    """The web app (``surface``: all of it, the public part, or the console alone) on a
    waitress server bound to ``host:port`` (the service's factory)."""
    # local: Flask and waitress load only when the web part runs (`syndicate worker`
    # never serves pages)
    from syndicate.web.server import serve_app

    return serve_app(app, host, port, surface)


def _serve(obj: Obj, parts: Parts) -> None:
    app = obj.app()
    service = Service(app, config_path=obj.config, parts=parts, web_server=web_server)
    service.install_signal_handlers()
    service.start()
    settings = app.settings
    lines = [f"syndicate running (config {obj.config})"]
    if parts.web:
        lines.append(f"  web:      http://{settings.web.listen}/  (subscribe: /subscribe)")
        if settings.web.admin_listen:
            lines.append(f"  console:  http://{settings.web.admin_listen}/admin/")
    if parts.scheduler:
        lines.append(f"  feeds:    {settings.feeds_dir}/")
    if parts.delivery and settings.mail.provider == "maildir":
        lines.append(f"  mail:     Maildir {settings.resolve(settings.mail.maildir)}/new")
    lines.append("  stop:     Ctrl-C")
    click.echo("\n".join(lines), err=True)
    raise SystemExit(service.wait())


@main_group.command()
@click.option("--once", is_flag=True, help="Run every job once now, then exit.")
@json_option
@pass_obj
@handle_errors
def run(obj: Obj, once: bool, as_json: bool) -> None:
    """The service: scheduler + delivery + web server in one process."""
    if not once:
        _serve(obj, Parts())
        return
    outcomes = jobs.run_once(obj.app())
    if as_json:
        print_json([o.__dict__ for o in outcomes])
    else:
        # the few numbers that matter, as `status` shows them; slots and counts: --json
        print_table(
            None,
            ["job", "result"],
            [(o.job, last_result(o.__dict__)) for o in outcomes],
        )
    if any(o.status == "failed" for o in outcomes):
        raise SystemExit(1)


@main_group.command()
@pass_obj
@handle_errors
def worker(obj: Obj) -> None:
    """A delivery worker only (scale-out: run many against one PostgreSQL)."""
    _serve(obj, Parts(scheduler=False, delivery=True, web=False))


@main_group.command()
@pass_obj
@handle_errors
def serve(obj: Obj) -> None:
    """The web app only (subscribe pages, one-click unsubscribe, feeds, webhooks)."""
    _serve(obj, Parts(scheduler=False, delivery=False, web=True))
