"""The extension points are registries: one ``register`` line adds a format or a mailer.

Each test registers a throwaway extension the way docs/architecture.md ("Extension
points") says and shows it working end to end through the real pipeline: a feed
file built, listed, typed and linted in the new format; a digest edition drained
through the new mailer.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from syndicate.core.clock import FixedClock
from syndicate.core.config import AnyHostSettings
from syndicate.delivery.drain import drain
from syndicate.delivery.mailers import build_mailer
from syndicate.delivery.mailers.base import GatedMailer, OutgoingMessage, SendResult
from syndicate.delivery.mailers.registry import PROVIDERS, MailProvider, register
from syndicate.delivery.outbox import status
from syndicate.feeds import build_feeds
from syndicate.feeds import formats as feed_formats
from syndicate.feeds.files import cache_control, is_live_feed, media_type
from syndicate.feeds.formats import FeedFormat, RenderInput
from syndicate.feeds.lint import lint_file, lint_tree
from syndicate.publishing.hosts.registry import HOST_TYPES
from syndicate.service.context import App
from syndicate.web.webhooks import PROVIDERS as WEBHOOK_PARSERS
from tests.support.deliveries import queued_edition
from tests.support.feeds import FEEDS_CONFIG, add_numbered_article


@pytest.fixture
def config_extra() -> str:
    return FEEDS_CONFIG


# -- a feed format ------------------------------------------------------------------------


def _render_titles(source: RenderInput) -> bytes:
    """One line per entry: its title and link."""
    lines = [source.page.spec.title, *(f"{e.title} <{e.url}>" for e in source.entries)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _lint_titles(report: typing.Any, data: bytes, public_url: str) -> None:
    if not data.strip():
        report.add("document", "empty title list")


@pytest.fixture
def titles_format() -> Iterator[FeedFormat]:
    fmt = feed_formats.register(
        FeedFormat("titles", "titles.txt", "text/plain", "Titles", _render_titles, _lint_titles)
    )
    try:
        yield fmt
    finally:
        del feed_formats.FORMATS[fmt.name]


def test_a_registered_feed_format_is_built_listed_typed_and_linted(
    app: App, titles_format: FeedFormat
) -> None:
    # The config names built-in formats only (its values are checked before any stage
    # loads); the feed opts into the new one here, as a new Literal value would.
    feeds = [f.model_copy(update={"formats": ["rss", "titles"]}) for f in app.settings.feeds]
    app.settings = app.settings.model_copy(update={"feeds": feeds})
    for number in (1, 2, 3):
        add_numbered_article(app, number, title=f"Story {number}")

    report = build_feeds(app.engine, app.settings, clock=app.clock)

    root = app.settings.feeds_dir
    assert "all/titles.txt" in report.written and "all/rss.xml" in report.written
    lines = (root / "all" / "titles.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Test News"
    assert [line.split(" <")[0] for line in lines[1:]] == ["Story 3", "Story 2", "Story 1"]
    index = (root / "index.html").read_text(encoding="utf-8")
    assert 'href="https://news.example.org/feeds/all/titles.txt" type="text/plain">Titles</a>' in (
        index
    )
    assert media_type("all/titles.txt") == "text/plain; charset=utf-8"
    assert is_live_feed("all/titles.txt")
    assert cache_control("all/titles.txt") == "public, max-age=300"
    problems = lint_tree(app.settings)
    assert problems["all/titles.txt"] == []
    (root / "all" / "titles.txt").write_bytes(b"\n")
    assert lint_file(root / "all" / "titles.txt", public_url="x") == [
        f"{root / 'all' / 'titles.txt'}: document: empty title list"
    ]


# -- a mailer -----------------------------------------------------------------------------


class MemoryMailer:
    """Keeps what it is handed; accepts everything, in batches of up to three."""

    name = "memory"
    max_batch = 3

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        self.batches.append([message.raw() for message in batch])
        return [SendResult("sent", provider_id=f"mem-{m.delivery_id}") for m in batch]

    def close(self) -> None:
        pass


@pytest.fixture
def memory_mailer() -> Iterator[MemoryMailer]:
    mailer = MemoryMailer()
    register(MailProvider("memory", lambda settings: mailer))
    try:
        yield mailer
    finally:
        del PROVIDERS["memory"]


def test_a_registered_mailer_delivers_a_digest(
    app: App, clock: FixedClock, memory_mailer: MemoryMailer
) -> None:
    mail = app.settings.mail.model_copy(update={"provider": "memory"})
    app.settings = app.settings.model_copy(update={"mail": mail})
    assert build_mailer(app.settings) is memory_mailer
    assert not isinstance(memory_mailer, GatedMailer)  # no rate gate declared
    queued_edition(app.engine, 7, now=clock.now())

    report = drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)

    assert report.sent == 7 and report.failed == 0
    assert [len(batch) for batch in memory_mailer.batches] == [3, 3, 1]
    sent = [raw for batch in memory_mailer.batches for raw in batch]
    recipients = sorted(
        line for raw in sent for line in raw.decode().splitlines() if line.startswith("To: ")
    )
    assert recipients == sorted(f"To: Reader {n} <reader{n}@example.com>" for n in range(7))
    with app.engine.connect() as conn:
        assert status(conn)[0].counts["sent"] == 7
    assert not Path(app.settings.resolve("outbox")).exists()  # not the maildir default


# -- host types ---------------------------------------------------------------------------


def test_every_host_type_the_config_accepts_has_a_factory() -> None:
    union = typing.get_args(typing.get_args(AnyHostSettings)[0])
    models = {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in union}
    assert {name: t.settings_model for name, t in HOST_TYPES.items()} == models


def test_every_webhook_parser_belongs_to_a_registered_provider() -> None:
    """Webhook parsers stay in the web stage (they verify requests with its context);
    each is keyed by a provider the mailer registry knows."""
    assert set(WEBHOOK_PARSERS) <= set(PROVIDERS)
    assert set(WEBHOOK_PARSERS) == {"mailgun", "sendgrid", "postmark", "ses"}
