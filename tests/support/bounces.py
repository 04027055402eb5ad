"""Helpers for the bounce tests: send a real edition, then fill a report fixture from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from syndicate.core.db import deliveries
from syndicate.delivery.drain import drain
from syndicate.delivery.messages import message_domain
from syndicate.delivery.outbox import enqueue
from syndicate.readers import subscribers
from syndicate.service.context import App
from tests.support import write_config
from tests.support.deliveries import add_edition, add_subscribers

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"
BOUNCE_ADDRESS = "bounce@bounces.news.example.org"
SECRET = "a-test-signing-secret-0123456789"


def bounce_config(tmp_path: Path, store_url: str, extra: str = "", *, verp: bool = True) -> Path:
    """The base test config with ``[mail] bounce_address`` set (Maildir provider)."""
    config = write_config(tmp_path, store_url, extra)
    if verp:
        text = config.read_text().replace(
            'maildir = "outbox"', f'maildir = "outbox"\nbounce_address = "{BOUNCE_ADDRESS}"', 1
        )
        config.write_text(text)
    return config


@dataclass(frozen=True)
class Sent:
    """One message syndicate sent, as a bounce report quotes it."""

    delivery_id: int
    rcpt: str
    envelope: str  # the Return-Path it carried (VERP), or the bare bounce address
    headers: str  # its header block, LF line ends, without the Return-Path
    message_id: str


def send_edition(app: App, count: int, *, period: str = "2026-03-02T06:00Z") -> list[Sent]:
    """Queue an edition for ``count`` new subscribers and deliver it to the Maildir."""
    now = app.clock.now()
    add_subscribers(app.engine, count, now=now)
    edition_id = add_edition(app.engine, now=now, period=period)
    with app.engine.begin() as conn:
        enqueue(
            conn,
            edition_id=edition_id,
            digest="weekly",
            now=now,
            domain=message_domain(app.settings),
        )
    report = drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    assert report.sent == count
    return sent_messages(app, edition_id)


def sent_messages(app: App, edition_id: int) -> list[Sent]:
    outbox = app.settings.resolve(app.settings.mail.maildir) / "new"
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(deliveries.c.id, deliveries.c.email, deliveries.c.message_id)
            .where(deliveries.c.edition_id == edition_id)
            .order_by(deliveries.c.id)
        ).all()
    found = []
    for row in rows:
        [path] = list(outbox.glob(f"{row.id}.*"))
        head = path.read_text().partition("\n\n")[0]
        lines = head.split("\n")
        envelope = app.settings.mail.bounce_address or "news@news.example.org"
        if lines[0].startswith("Return-Path: "):
            envelope = lines.pop(0).removeprefix("Return-Path: ").strip("<>")
        found.append(Sent(row.id, row.email, envelope, "\n".join(lines), row.message_id))
    return found


def report(name: str, sent: Sent, **override: str) -> bytes:
    """The fixture ``name`` about ``sent`` (CRLF line ends, as an MTA pipes it)."""
    values = {
        "@@VERP@@": sent.envelope,
        "@@RCPT@@": sent.rcpt,
        "@@HEADERS@@": sent.headers,
        "@@MESSAGE_ID@@": sent.message_id.strip("<>"),
    }
    values.update({f"@@{key.upper()}@@": value for key, value in override.items()})
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    return text.replace("\n", "\r\n").encode()


def status_of(app: App, email: str) -> subscribers.Subscriber:
    with app.engine.connect() as conn:
        found = subscribers.find(conn, email)
    assert found is not None
    return found


# Runs the CLI with a SIGKILL just before the report's commit or just after it (before
# the message is marked): `python -c HOOK --config ... bounces ingest`, KILL_AT set.
HOOK = """
import os, signal, sys
import syndicate.delivery.bounces.events as events
import syndicate.delivery.bounces.mailbox as mailbox
if os.environ["KILL_AT"] == "before-commit":
    real_apply = events.apply
    def apply(*args, **kwargs):
        real_apply(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # inside the transaction
    events.apply = apply
else:
    real_ingest = mailbox.ingest
    def ingest(*args, **kwargs):
        result = real_ingest(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # committed, not yet marked
    mailbox.ingest = ingest
from syndicate.cli import main
main(prog_name="syndicate")
"""
