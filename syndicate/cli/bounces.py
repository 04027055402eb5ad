"""CLI commands: ``bounces ingest``: bounce and complaint reports that arrive as mail."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import click

from syndicate.cli.base import (
    Obj,
    err_console,
    fail,
    handle_errors,
    json_option,
    main_group,
    out_console,
    pass_obj,
    print_json,
)
from syndicate.core.errors import BadInput, SyndicateError

# sysexits.h EX_TEMPFAIL: an MTA's pipe transport keeps the message and retries later.
EX_TEMPFAIL = 75


@main_group.group("bounces")
def bounces_group() -> None:
    """Bounce and complaint reports that arrive as mail (DSN, ARF, NDR)."""


@bounces_group.command("ingest")
@click.argument("source", required=False, type=click.Choice(["-"]))
@json_option
@pass_obj
@handle_errors
def ingest_command(obj: Obj, source: str | None, as_json: bool) -> None:
    """Apply a bounce or complaint report: one message from standard input (``-``,
    for an MTA pipe transport; also without ``[mail.bounces]``), else every new
    message in the ``[mail.bounces]`` Maildir or IMAP mailbox.

    Hard bounces and complaints suppress the address, soft bounces count, exactly
    as provider webhooks do; the same report twice changes nothing. From standard
    input, a failure to record it exits 75 (EX_TEMPFAIL) so the MTA retries later.
    """
    if source == "-" or obj.app().settings.mail.bounces is None:
        _from_stdin(obj, as_json)
        return
    app = obj.app()
    from syndicate.delivery.bounces.mailbox import poll  # local: imaplib loads only when polling

    lines: list[dict[str, Any]] = []

    def show(where: str, result: Any) -> None:
        lines.append({"message": where, **_fields(result)})
        if not as_json:
            out_console.print(f"{where}: {result.status}: {result.detail}", markup=False)

    counts = poll(app, show)
    if as_json:
        print_json({"counts": dict(counts), "messages": lines})
    else:
        out_console.print(_summary(counts), markup=False)


def _from_stdin(obj: Obj, as_json: bool) -> None:
    from syndicate.delivery.bounces.ingest import ingest
    from syndicate.delivery.bounces.parse import MAX_REPORT

    if sys.stdin.isatty():
        raise BadInput(
            "no message on standard input, and no [mail.bounces] mailbox to poll",
            hint="pipe one report in (syndicate bounces ingest - < report.eml), "
            "or configure [mail.bounces]",
        )
    raw = sys.stdin.buffer.read(MAX_REPORT + 1)
    if len(raw) > MAX_REPORT:
        err_console.print("warning: the message is over 10 MB; reading its start only")
    try:
        result = ingest(obj.app(), raw[:MAX_REPORT])
    except SyndicateError as error:
        # A bad config or a store that is down: printed as any error is, but the exit
        # code tells the MTA to keep the message and try again (never to bounce it).
        try:
            fail(error)
        except SystemExit:
            sys.exit(EX_TEMPFAIL)
    if as_json:
        print_json(_fields(result))
    else:
        out_console.print(f"{result.status}: {result.detail}", markup=False)


def _fields(result: Any) -> dict[str, Any]:
    return {
        "status": result.status,
        "detail": result.detail,
        "delivery_id": result.delivery_id,
        "kind": result.kind,
    }


def _summary(counts: Counter[str]) -> str:
    if not counts:
        return "no new messages"
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
