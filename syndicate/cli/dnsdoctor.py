"""``syndicate check --dns``: print the doctor's findings as a table or JSON; exit 1 on errors."""

from __future__ import annotations

import sys

import click

from syndicate.cli.base import Obj, out_console, print_json
from syndicate.core.errors import SyndicateError
from syndicate.core.tokens import signer_for
from syndicate.service.dnsdoctor import Finding, Resolver, run_doctor, worst

_STYLE = {"ok": "green", "info": "dim", "warning": "yellow", "error": "bold red"}


def dns_check(obj: Obj, *, as_json: bool, nameserver: str | None, timeout: float) -> None:
    app = obj.app()
    resolver = Resolver(nameserver, timeout)
    signer = signer_for(app.settings, app.engine)
    findings = run_doctor(app.settings, resolver, signer, app.clock.now())
    errors = sum(f.severity == "error" for f in findings)
    if as_json:
        print_json(
            {
                "config": obj.config,
                "ok": not errors,
                "worst": worst(findings),
                "findings": [f.as_dict() for f in findings],
            }
        )
        if errors:
            sys.exit(1)
        return
    _print(findings)
    if errors:
        raise SyndicateError(
            f"{errors} DNS/deliverability error(s)",
            hint="publish the records shown under each error, wait for the TTL, "
            "then run `syndicate check --dns` again",
        )
    click.echo(f"{obj.config}: deliverability ok, {len(findings)} findings")


def _print(findings: list[Finding]) -> None:
    """A table of findings; the records to publish below it, whole, ready to paste."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, header_style="bold")
    for column in ("", "check", "name", "finding"):
        table.add_column(column, overflow="fold")
    records = [f.record for f in findings if f.record]
    for finding in findings:
        detail = Text(finding.message)
        if finding.record:
            detail.append(f" [record {records.index(finding.record) + 1}]", style="bold")
        table.add_row(
            Text(finding.severity, style=_STYLE[finding.severity]),
            finding.check,
            Text(finding.subject),
            detail,
        )
    out_console.print(table)
    if records:
        out_console.print(Text("\nPublish these records:", style="bold"))
    for number, record in enumerate(records, 1):
        out_console.print(Text(f"[record {number}] {record}"), soft_wrap=True)
