"""Shared by the outbox, mailer, delivery and crash tests: a queued edition in a store.

(Named test_* so it belongs to the delivery area; it holds helpers, no tests.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from syndicate.core.config import Settings
from syndicate.core.db import editions, subscribers, subscriptions
from syndicate.core.tokens import Signer
from syndicate.delivery.mailers.base import OutgoingMessage
from syndicate.delivery.messages import EditionContent, prepare, recipient_for
from syndicate.delivery.outbox import enqueue
from tests.support import T0

EDITION_HTML = (
    "<html><body><p>Hello @@name@@,</p><p>{body}</p>"
    '<p><a href="@@unsubscribe_url@@">Unsubscribe</a> '
    '<a href="@@preferences_url@@">Preferences</a></p></body></html>'
)
EDITION_TEXT = "Hello @@name@@,\n\n{body}\n\nUnsubscribe: @@unsubscribe_url@@\n"


def add_subscribers(
    engine: Engine, count: int, *, now: datetime, digest: str = "weekly"
) -> list[int]:
    """``count`` new active subscribers of ``digest``; returns their ids."""
    with engine.connect() as conn:
        start = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    rows = [
        {
            "email": f"reader{i}@example.com",
            "email_key": f"reader{i}@example.com",
            "name": f"Reader {i}",
            "status": "active",
            "soft_bounces": 0,
            "created_at": now,
            "confirmed_at": now,
        }
        for i in range(start, start + count)
    ]
    with engine.begin() as conn:
        ids = [
            conn.execute(insert(subscribers).values(**row)).inserted_primary_key[0] for row in rows
        ]
        conn.execute(
            insert(subscriptions),
            [{"subscriber_id": sid, "digest": digest, "created_at": now} for sid in ids],
        )
    return ids


def add_edition(
    engine: Engine,
    *,
    now: datetime,
    digest: str = "weekly",
    period: str = "2026-03-02T06:00Z",
    body: str = "This week's news.",
) -> int:
    with engine.begin() as conn:
        return conn.execute(
            insert(editions).values(
                digest=digest,
                period=period,
                period_start=now,
                period_end=now,
                status="composed",
                subject="Test News weekly: 2 March",
                html=EDITION_HTML.format(body=body),
                text=EDITION_TEXT.format(body=body),
                article_count=1,
                more_count=0,
                html_bytes=100,
                created_at=now,
            )
        ).inserted_primary_key[0]


def queued_edition(engine: Engine, count: int, *, now: datetime, **kw: object) -> int:
    """An edition queued for ``count`` new subscribers; returns the edition id."""
    add_subscribers(engine, count, now=now)
    edition_id = add_edition(engine, now=now, **kw)  # type: ignore[arg-type]
    with engine.begin() as conn:
        enqueue(conn, edition_id=edition_id, digest="weekly", now=now, domain="news.example.org")
    return edition_id


# -- a real SMTP server (aiosmtpd) that answers on cue ------------------------------------


class SmtpSink:
    """aiosmtpd handler: records what it accepted; ``cues`` map an address to a reply.

    A cue is an SMTP reply for RCPT ("451 ...", "550 ...", "421 ..."), or
    ``"data:<reply>"`` to answer DATA with it, ``"drop"`` to close the connection
    after the message arrived but before answering (the first time only; ``"drop
    always"`` every time), ``"drop at rcpt"`` to close it at RCPT, before any content
    (the first time only), or ``"hang"`` to answer DATA only after two seconds.
    """

    def __init__(self) -> None:
        import threading

        self.messages: list[tuple[str, bytes]] = []
        self.cues: dict[str, str] = {}
        self.dropped: set[str] = set()
        self.sessions = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        cue = self.cues.get(address, "")
        if cue[:1].isdigit():
            return cue
        if cue == "drop at rcpt" and address not in self.dropped:
            with self.lock:
                self.dropped.add(address)
            server.transport.close()
            return "421 closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        cue = self.cues.get(rcpt, "")
        if cue.startswith("data:"):
            return cue[5:]
        if cue == "hang":  # no answer to the end of DATA within the client's timeout
            await asyncio.sleep(2)
        with self.lock:
            self.messages.append((rcpt, envelope.original_content or envelope.content))
            if (cue == "drop" and rcpt not in self.dropped) or cue == "drop always":
                self.dropped.add(rcpt)
                server.transport.close()
        return "250 2.0.0 queued"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (cert, key)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=36500))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def outgoing_messages(
    settings: Settings,
    recipients: Sequence[tuple[str, str]],
    *,
    reply_to: str | None = None,
    first_id: int = 1,
) -> list[OutgoingMessage]:
    """One prepared test edition, personalised for each (email, name); ids count up."""
    content = EditionContent(
        1,
        "weekly",
        "Weekly",
        EDITION_HTML.format(body="News"),
        EDITION_TEXT.format(body="News"),
        "Test News <news@news.example.org>",
        reply_to,
        "weekly.news.example.org",
        T0,
    )
    prepared = prepare(content, settings)
    signer = Signer([b"k" * 32])
    return [
        OutgoingMessage(
            prepared,
            recipient_for(
                settings,
                signer,
                delivery_id=i,
                subscriber_id=i,
                email=email,
                name=name,
                edition_id=1,
                now=T0,
            ),
        )
        for i, (email, name) in enumerate(recipients, start=first_id)
    ]
