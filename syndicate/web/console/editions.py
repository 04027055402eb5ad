"""Editions in the console: the message one subscriber got, a test copy, and holding or
cancelling the rows still queued. Messages are built by ``messages.py`` exactly as the
delivery workers build them, so the preview is the mail.
"""

from __future__ import annotations

import dataclasses
import email
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy.engine import Connection

from syndicate.core.errors import SyndicateError
from syndicate.core.tokens import signer_for
from syndicate.delivery.clicks import counted
from syndicate.delivery.drain import send_test_copy
from syndicate.delivery.messages import edition_content, prepare, recipient_for
from syndicate.delivery.outbox import as_received, move_unsent
from syndicate.digest.compose import find_edition_row
from syndicate.readers.subscribers import Subscriber, normalise
from syndicate.service.context import App

SAMPLE = ("reader@example.org", "Sample Reader")
# What an operator may do to an edition's unsent rows: from-states -> to-state.
HOLDS = {
    "pause": (("queued", "deferred"), "paused"),
    "resume": (("paused",), "queued"),
    "cancel": (("queued", "deferred", "paused"), "cancelled"),
}


class UnknownEdition(SyndicateError):
    hint = "see the editions page"


def get(conn: Connection, edition_id: int) -> dict[str, Any]:
    row = find_edition_row(conn, edition_id)
    if row is None:
        raise UnknownEdition(f"no edition {edition_id}")
    return dict(row)


@dataclass(frozen=True)
class Rendered:
    raw: bytes
    message: EmailMessage
    headers: list[tuple[str, str]]
    html: str
    text: str


def message_for(
    app: App,
    edition: dict[str, Any],
    subscriber: Subscriber | None,
) -> Rendered:
    """The message ``subscriber`` got (their topics' variant, if any) or a sample
    reader's copy of the whole edition, parsed for display."""
    settings = app.settings
    if subscriber is not None:
        with app.engine.connect() as conn:
            edition = as_received(conn, edition["id"], subscriber.id)
    signer = signer_for(settings, app.engine)
    prepared = prepare(counted(settings, signer, edition_content(settings, edition)), settings)
    address, name = (subscriber.email, subscriber.name) if subscriber else SAMPLE
    recipient = recipient_for(
        settings,
        signer,
        delivery_id=None,
        subscriber_id=subscriber.id if subscriber else None,
        email=address,
        name=name,
        edition_id=edition["id"],
        now=app.clock.now(),
    )
    # The reader's own links would work for whoever sees the preview (a viewer could
    # unsubscribe them): show where they point, without a working token.
    base = settings.web_base_url
    recipient = dataclasses.replace(
        recipient,
        unsubscribe_url=f"{base}unsubscribe/preview-not-a-working-link",
        preferences_url=f"{base}preferences/preview-not-a-working-link",
        feed_url=f"{base}my/preview-not-a-working-link/atom.xml",
    )
    raw = prepared.message_bytes(recipient)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    html_part, text_part = parsed.get_body(("html",)), parsed.get_body(("plain",))
    return Rendered(
        raw=raw,
        message=parsed,
        headers=[(k, str(v)) for k, v in parsed.items()],
        html=html_part.get_content() if html_part else "",
        text=text_part.get_content() if text_part else "",
    )


def send_test(app: App, edition: dict[str, Any], to: str) -> str:
    """Send a [TEST] copy through the configured mailer; returns the address used."""
    address = normalise(to).email
    send_test_copy(app.engine, app.settings, edition, address, clock=app.clock, mailer=app.mailer)
    return address


def hold(conn: Connection, edition_id: int, action: str, now: datetime) -> int:
    """Pause, resume or cancel the edition's unsent rows; a row being sent is left alone."""
    sources, target = HOLDS[action]
    return move_unsent(conn, edition_id, sources=sources, target=target, now=now)
