"""CLI commands: digest preview and digest send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from syndicate.cli.base import (
    Obj,
    err_console,
    handle_errors,
    json_option,
    labelled,
    main_group,
    out_console,
    pass_obj,
    print_json,
)
from syndicate.core.clock import FixedClock
from syndicate.core.errors import DigestError, SyndicateError
from syndicate.service.context import App

SAMPLE_EMAIL = "reader@example.org"
SAMPLE_NAME = "Reader"


@main_group.group()
def digest() -> None:
    """Email digests: preview an edition, send it (or a test copy)."""


def parse_at(value: str, tz: ZoneInfo) -> datetime:
    """``2026-03-02``, ``2026-03-02T09:30`` or with an offset; naive means the digest's zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date or time (like 2026-03-02 or 2026-03-02T09:30)"
        ) from None
    if len(value.strip()) == 10:  # a bare date: the end of that day
        moment = datetime.combine(date.fromisoformat(value), time(23, 59, 59))
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Draft:
    """The edition a preview or test send shows: the stored one, else rendered in memory."""

    edition_id: int | None
    subject: str
    html: str
    text: str
    date: datetime
    article_count: int
    stored_status: str | None  # the stored edition's status, None when not stored yet
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Reader:
    """Whom a preview is for: a stored subscriber, or the sample reader (``id`` None)."""

    id: int | None
    email: str
    name: str
    topics: tuple[str, ...] | None  # their topics of the digest (None: every article)


def _reader(app: App, name: str, address: str | None) -> Reader:
    if address is None:
        return Reader(None, SAMPLE_EMAIL, SAMPLE_NAME, None)
    from syndicate.digest import choices
    from syndicate.readers import subscribers

    with app.engine.connect() as conn:
        found = subscribers.require(conn, address)
        topics = choices.topics_of(conn, found.id).get(name)
    return Reader(found.id, found.email, found.name, topics)


def _draft(app: App, name: str, *, strict: bool = True, reader: Reader | None = None) -> Draft:
    """The edition to show, as ``reader`` gets it (their topics' variant); ``strict``:
    refuse one that fails the pre-send check."""
    from syndicate.delivery.outbox import as_received
    from syndicate.digest import (
        find_edition,
        latest_slot,
        period_key,
        render_edition,
        select_articles,
    )
    from syndicate.digest.check import presend_check

    settings = app.settings
    digest_settings = settings.digest(name)
    now = app.clock.now()
    slot = latest_slot(digest_settings, settings.digest_timezone(digest_settings), now)
    if slot is None:
        raise DigestError(f"digest {name!r} has no scheduled slot before {now:%Y-%m-%d %H:%M} UTC")
    with app.engine.connect() as conn:
        stored = find_edition(conn, digest=name, period=period_key(slot))
        if stored is not None and stored.status == "composed":
            sent = dict(subject=stored.subject, html=stored.html, text=stored.text)
            count = stored.article_count
            if reader is not None and reader.id is not None:
                row = as_received(conn, stored.id, reader.id)
                sent = {key: row[key] for key in sent}
                if "variant_article_ids" in row:
                    count = len(row["variant_article_ids"])
            check = presend_check(sent["html"], sent["text"])
            return Draft(
                stored.id,
                sent["subject"],
                sent["html"],
                sent["text"],
                stored.created_at,
                count,
                stored.status,
                tuple(check.warnings),
            )
        selection = select_articles(
            conn, settings, digest_settings, slot, composed_at=app.clock.now()
        )
    chosen = selection.articles
    if reader is not None and reader.topics is not None:
        wanted = set(reader.topics)
        chosen = [article for article in chosen if wanted.intersection(article.tags)]
    rendered = render_edition(
        settings, digest_settings, chosen, slot=slot, more_count=selection.more_count
    )
    if strict and not rendered.check.ok:
        raise DigestError(
            f"the edition fails the pre-send check: {'; '.join(rendered.check.errors)}"
        )
    return Draft(
        None,
        rendered.subject,
        rendered.html,
        rendered.text,
        now,
        len(chosen),
        None if stored is None else stored.status,
        tuple(rendered.check.warnings),
    )


def _message(app: App, name: str, draft: Draft, *, reader: Reader) -> bytes:
    """The exact bytes one recipient gets, built by messages.py like the outbox does."""
    from syndicate.core.tokens import signer_for
    from syndicate.delivery.messages import edition_content, prepare, recipient_for

    settings = app.settings
    content = edition_content(
        settings,
        {
            "id": draft.edition_id,
            "digest": name,
            "subject": draft.subject,
            "html": draft.html,
            "text": draft.text,
            "created_at": draft.date,
        },
    )
    prepared = prepare(content, settings)
    recipient = recipient_for(
        settings,
        signer_for(settings, app.engine),
        delivery_id=None,
        subscriber_id=reader.id,
        email=reader.email,
        name=reader.name,
        edition_id=draft.edition_id,
        now=app.clock.now(),
    )
    return prepared.message_bytes(recipient)


def _warn(draft: Draft) -> None:
    for warning in draft.warnings:
        labelled("warning", "yellow", warning)


@digest.command()
@click.argument("name")
@click.option(
    "--subscriber", "subscriber", metavar="EMAIL", help="Personalise for this subscriber."
)
@click.option("--at", "at", metavar="TIME", help="Preview as of this time (digest's zone).")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the .eml here."
)
@click.option("--text", "show", flag_value="text", help="Print only the text part.")
@click.option("--raw", "show", flag_value="raw", help="Print the MIME message as sent.")
@click.option("--open", "show", flag_value="open", help="Open the HTML part in a web browser.")
@click.option(
    "--serve", "show", flag_value="serve", help="Serve the HTML part on 127.0.0.1 until Ctrl-C."
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port for --serve.")
@pass_obj
@handle_errors
def preview(
    obj: Obj,
    name: str,
    subscriber: str | None,
    at: str | None,
    out: Path | None,
    show: str | None,
    port: int,
) -> None:
    """Show what a subscriber would receive, without storing or sending anything: the
    headers and text part (default), the HTML in a browser (--open, --serve), or the
    message itself (--raw, --out)."""
    from syndicate.core.fileio import write_atomic
    from syndicate.digest import preview as view

    app = obj.app()
    if at is not None:
        settings = app.settings.digest(name)
        app.clock = FixedClock(parse_at(at, app.settings.digest_timezone(settings)))
    reader = _reader(app, name, subscriber)
    draft = _draft(app, name, reader=reader)
    if draft.stored_status in ("empty", "skipped") or (
        draft.article_count == 0 and app.settings.digest(name).skip_empty
    ):
        err_console.print(
            f"no new articles for digest {name!r} in the current period: nothing would be sent",
            markup=False,
        )
        return
    data = _message(app, name, draft, reader=reader)
    _warn(draft)
    if out is not None:
        try:
            write_atomic(out, data)
        except OSError as exc:
            raise SyndicateError(
                f"--out: cannot write {out}: {exc.strerror or exc}",
                hint="choose a file in a folder you can write, or leave out --out",
            ) from None
        err_console.print(f"wrote {len(data)} bytes to {out}", markup=False)
        if show is None:
            return
    message = view.parse(data)
    if show == "raw":
        click.echo(data.decode("utf-8", errors="replace").replace("\r\n", "\n"), nl=False)
    elif show == "text":
        click.echo(view.part(message, "plain"), nl=False)
    elif show == "open":
        path = view.open_in_browser(view.part(message, "html"), name)
        click.echo(f"opened {path} in a web browser")
    elif show == "serve":
        view.serve(
            view.part(message, "html"),
            port=port,
            ready=lambda url: click.echo(f"serving the HTML part at {url} (Ctrl-C stops)"),
        )
    else:
        click.echo(view.readable(data), nl=False)
        err_console.print(
            f"(HTML part: {len(view.part(message, 'html').encode()) // 1024} KB; "
            "--open or --serve shows it in a browser, --raw prints the MIME message)",
            markup=False,
            soft_wrap=True,
        )


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@digest.command()
@click.argument("name")
@click.option("--at", "at", metavar="TIME", help="Check the edition due at this time.")
@json_option
@pass_obj
@handle_errors
def check(obj: Obj, name: str, at: str | None, as_json: bool) -> None:
    """Check the current edition before sending: links, images and alt text, a visible
    unsubscribe link (HTML and text), Gmail's 102 KB clip, image-to-text ratio, URL
    shorteners, and its SpamAssassin score when spamassassin is installed. Exit 1 on
    an error."""
    from syndicate.digest.check import presend_check
    from syndicate.digest.spamscore import spam_findings

    app = obj.app()
    if at is not None:
        settings = app.settings.digest(name)
        app.clock = FixedClock(parse_at(at, app.settings.digest_timezone(settings)))
    draft = _draft(app, name, strict=False)
    result = presend_check(draft.html, draft.text)
    message = _message(app, name, draft, reader=_reader(app, name, None))
    spam, report = spam_findings(message)
    findings = result.findings + spam
    if as_json:
        print_json(
            {
                "digest": name,
                "subject": draft.subject,
                "articles": draft.article_count,
                **result.as_dict(),
                "ok": not any(f.severity == "error" for f in findings),
                "findings": [f.as_dict() for f in findings],
                "spam_score": None if report is None else report.score,
                "spam_rules": None
                if report is None
                else [{"rule": r, "points": p, "description": d} for r, p, d in report.rules],
            }
        )
    else:
        out_console.print(
            f"{name}: {draft.subject!r}, {draft.article_count} article(s), HTML part "
            f"{result.estimated_bytes // 1024} KB as sent, {result.images} image(s), "
            f"{result.text_chars} characters of text",
            soft_wrap=True,
            markup=False,
        )
        for finding in findings:
            labelled(finding.severity, _SEVERITY_STYLE[finding.severity], finding.message)
            if finding.severity != "info" or finding.code != "spamassassin":
                out_console.print(f"  next: {finding.hint}", soft_wrap=True, markup=False)
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)


@digest.command()
@click.argument("name")
@click.option("--test-to", "test_to", metavar="EMAIL", help="Send one [TEST] copy here only.")
@json_option
@pass_obj
@handle_errors
def send(obj: Obj, name: str, test_to: str | None, as_json: bool) -> None:
    """Compose the current edition and queue it for every subscriber (or send a test copy)."""
    app = obj.app()
    app.settings.digest(name)
    if test_to is not None:
        _send_test(app, name, test_to, as_json)
        return
    from syndicate.digest import find_edition, presend_check
    from syndicate.service.jobs import send_digest
    from syndicate.service.manualruns import recorded

    run = recorded(app, f"digest:{name}", lambda: send_digest(app, name))
    with app.engine.connect() as conn:
        edition = find_edition(conn, edition_id=run.edition_id) if run.edition_id else None
    report: dict[str, Any] = {
        "digest": name,
        "slot": run.slot,
        "edition_id": run.edition_id,
        "status": run.status,
        "articles": edition.article_count if edition else 0,
        "more": edition.more_count if edition else 0,
        "html_bytes": edition.html_bytes if edition else 0,
        "queued": run.queued,
        "warnings": presend_check(edition.html, edition.text).warnings
        if edition and edition.html
        else [],
    }
    if as_json:
        print_json(report)
        return
    for warning in report["warnings"]:
        labelled("warning", "yellow", warning)
    if run.status == "composed" and edition is not None:
        out_console.print(
            f"edition {edition.id} of {name} ({edition.period}): {edition.article_count} "
            f"article(s)"
            + (f" and {edition.more_count} more" if edition.more_count else "")
            + f", {edition.html_bytes // 1024} KB; queued for {run.queued} new recipient(s)",
            soft_wrap=True,
            markup=False,
        )
        out_console.print("run `syndicate deliver --once` to send the queue now")
    elif edition is not None:
        out_console.print(
            f"edition {edition.id} of {name} ({edition.period}) is {edition.status}: "
            f"{edition.reason or 'nothing to send'}" + _next_edition(app, name, run.slot),
            soft_wrap=True,
            markup=False,
        )


def _next_edition(app: App, name: str, slot: datetime) -> str:
    """Where an article published after this period's slot goes: the next edition."""
    from syndicate.digest.windows import next_slot

    settings = app.settings.digest(name)
    following = next_slot(settings, app.settings.digest_timezone(settings), slot)
    if following is None:
        return ""
    return (
        f"; articles published after {slot:%Y-%m-%d %H:%M} UTC go into the next edition "
        f"({following:%Y-%m-%d %H:%M} UTC)"
    )


def _send_test(app: App, name: str, test_to: str, as_json: bool) -> None:
    from syndicate.delivery.drain import send_test_copy
    from syndicate.readers.subscribers import normalise

    email = normalise(test_to).email
    draft = _draft(app, name)
    _warn(draft)
    edition = {
        "digest": name,
        "subject": draft.subject,
        "html": draft.html,
        "text": draft.text,
        "created_at": draft.date,
    }
    result = send_test_copy(
        app.engine,
        app.settings,
        edition,
        email,
        clock=app.clock,
        mailer=app.mailer,
        name=SAMPLE_NAME,
    )
    if as_json:
        print_json(
            {
                "digest": name,
                "test_to": email,
                "articles": draft.article_count,
                "provider_id": result.provider_id,
                "stored": False,
            }
        )
        return
    out_console.print(
        f"sent a [TEST] copy of {name} ({draft.article_count} article(s)) to {email}; "
        "no edition was stored",
        soft_wrap=True,
        markup=False,
    )
