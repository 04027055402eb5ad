"""CLI commands: delivery (``deliver``) and the outbox (``outbox list``, ``outbox retry``)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from syndicate.cli.base import (
    Obj,
    err_console,
    fail,
    handle_errors,
    json_option,
    main_group,
    pass_obj,
    print_json,
    print_table,
)
from syndicate.cli.progress import HeldColumn, RateColumn
from syndicate.core.errors import SyndicateError
from syndicate.delivery.mailers.limits import RateLimiter
from syndicate.delivery.outbox import STATES


@main_group.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option(
    "--worker-id",
    default=None,
    help="Stable id for this worker; a restart takes back the rows it held at once.",
)
@json_option
@pass_obj
@handle_errors
def deliver(obj: Obj, once: bool, worker_id: str | None, as_json: bool) -> None:
    """Drain the outbox: hand queued messages to the mail provider."""
    from syndicate.delivery.drain import drain
    from syndicate.delivery.outbox import due_count
    from syndicate.service.manualruns import recorded

    app = obj.app()
    total = None  # a continuous drain has no end to show
    if once:
        with app.engine.connect() as conn:
            total = due_count(conn, now=app.clock.now())
    stop = threading.Event()
    result: dict[str, Any] = {}

    def on_term(_signum: int, _frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    mail = app.settings.mail
    limiter = RateLimiter(mail.rate_per_second, mail.burst)  # shared with the bar
    columns = (
        TextColumn("delivering"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn("msg"),
        TextColumn("eta"),
        TimeRemainingColumn(),
        HeldColumn(limiter),
    )
    with Progress(*columns, console=err_console, disable=as_json, transient=False) as bar:
        task = bar.add_task("deliver", total=total)

        def advance(count: int) -> None:
            bar.advance(task, count)

        def work() -> None:
            try:

                def run() -> Any:
                    return drain(
                        app.engine,
                        app.settings,
                        clock=app.clock,
                        mailer=app.mailer,
                        once=once,
                        stop=stop,
                        worker_id=worker_id,
                        progress=advance,
                        limiter=limiter,
                    )

                # a one-off drain is a run of the deliver job, as in `run --once`
                result["report"] = recorded(app, "deliver", run) if once else run()
            except BaseException as exc:  # handed to the main thread
                result["error"] = exc

        thread = threading.Thread(target=work, name="deliver")
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.2)
        except KeyboardInterrupt:
            stop.set()
            err_console.print("stopping after the messages in flight…")
            thread.join()
        finally:
            signal.signal(signal.SIGTERM, previous)
    if "error" in result:
        raise result["error"]
    report = result["report"]
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(
            f"sent {report.sent}, deferred {report.deferred}, failed {report.failed}, "
            f"suppressed {report.suppressed}, uncertain {report.uncertain}"
        )
    left = report.deferred + report.uncertain
    if report.paused or (once and left):
        # Work left undone by a fault is not success: cron and scripts must see it.
        what = f"{left} row(s) not delivered, to be retried"
        if report.paused:
            what = f"delivery paused after repeated failures; {what}, the rest still queued"
        fail(
            SyndicateError(
                f"{what}: {report.last_error or 'see `syndicate status`'}",
                hint="nothing is lost: the rows are retried; fix the cause above, then run "
                "`syndicate deliver --once` again",
            )
        )


@main_group.group("outbox")
def outbox_group() -> None:
    """Inspect and repair the outbox."""


@outbox_group.command("list")
@click.option("--edition", "edition_id", type=int, default=None, help="Only this edition.")
@click.option(
    "--status",
    "state",
    type=click.Choice(STATES),
    default=None,
    help="Only rows in this state.",
)
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@json_option
@pass_obj
@handle_errors
def outbox_list(
    obj: Obj, edition_id: int | None, state: str | None, limit: int, as_json: bool
) -> None:
    """List delivery rows, newest first."""
    from syndicate.delivery.outbox import list_rows

    app = obj.app()
    with app.engine.connect() as conn:
        rows = list_rows(conn, edition_id=edition_id, state=state, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table(
        None,
        ["id", "edition", "email", "status", "attempts", "next try", "error"],
        [
            (
                r["id"],
                r["edition_id"],
                r["email"],
                r["status"],
                r["attempts"],
                r["not_before"].strftime("%Y-%m-%d %H:%M") if r["status"] == "deferred" else "",
                (r["last_error"] or "")[:60],
            )
            for r in rows
        ],
    )


@outbox_group.command("retry")
@click.option("--edition", "edition_id", type=int, default=None, help="Only this edition.")
@click.option("--failed", is_flag=True, help="Re-queue the failed rows (required).")
@json_option
@pass_obj
@handle_errors
def outbox_retry(obj: Obj, edition_id: int | None, failed: bool, as_json: bool) -> None:
    """Queue failed deliveries again; sent and suppressed rows are never touched."""
    from syndicate.core.db import transaction
    from syndicate.delivery.outbox import retry_failed

    if not failed:
        raise SyndicateError(
            "say which rows to retry", hint="syndicate outbox retry --failed [--edition ID]"
        )
    app = obj.app()
    with transaction(app.engine) as conn:
        count = retry_failed(conn, now=app.clock.now(), edition_id=edition_id)
    if as_json:
        print_json({"requeued": count, "edition": edition_id})
        return
    click.echo(f"re-queued {count} failed deliveries; run `syndicate deliver` to send them")
