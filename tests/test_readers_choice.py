"""Readers' choices: topics, how often, the private feed and the welcome email.

Editions are composed into the real store, queued, drained into the Maildir and read
back as a reader would; the private feed is parsed with feedparser.
"""

from __future__ import annotations

import email
import json
import re
from datetime import UTC, datetime, timedelta
from email import policy

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from syndicate.core.db import deliveries, edition_variants, editions, events, transaction
from syndicate.core.render import packaged_templates_dir
from syndicate.core.tokens import feed_token
from syndicate.delivery.drain import drain
from syndicate.digest import choices
from syndicate.digest import render as render_module
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.service.jobs import send_digest
from syndicate.web import create_app
from tests.support import T0
from tests.support.digests import add_dated_article

TOPICS = """topics = [
  { tag = "transport", label = "Transport" },
  { tag = "culture", label = "Culture" },
  { tag = "sport", label = "Sport" },
]"""

CONFIG = f"""
[[feeds]]
name = "news"
path = "news"
title = "City News"

[[digests]]
name = "daily"
title = "City News daily"
description = "Every morning."
feed = "news"
frequency = "Daily"
schedule = "0 7 * * *"
timezone = "UTC"
lookback = "1d"
max_articles = 20
welcome = true
{TOPICS}

[[digests]]
name = "weekly"
title = "City News weekly"
feed = "news"
frequency = "Weekly"
schedule = "0 8 * * MON"
timezone = "UTC"
lookback = "7d"
max_articles = 20
welcome = true
{TOPICS}

[[digests]]
name = "plain"
title = "Plain digest"
feed = "news"
schedule = "0 8 * * MON"
timezone = "UTC"
lookback = "7d"
"""

DAILY_SLOT = datetime(2026, 3, 2, 7, tzinfo=UTC)  # T0 is Monday 09:00 UTC
WEEKLY_SLOT = datetime(2026, 3, 2, 8, tzinfo=UTC)
TRAMS, THEATRE, DERBY, BUSES = (
    "Night trams return",
    "Theatre reopens",
    "Derby day",
    "Bus lanes extended",
)


@pytest.fixture
def config_extra() -> str:
    return CONFIG


@pytest.fixture
def web(app: App) -> Flask:
    return create_app(app)


@pytest.fixture
def client(web: Flask) -> FlaskClient:
    return web.test_client()


def articles(app: App) -> None:
    add_dated_article(app, TRAMS, T0 - timedelta(days=2), tags=("transport",))  # Sat 09:00
    add_dated_article(app, THEATRE, T0 - timedelta(hours=20), tags=("culture",))  # Sun 13:00
    add_dated_article(app, DERBY, T0 - timedelta(hours=16), tags=("sport", "culture"))  # Sun 17:00
    add_dated_article(app, BUSES, T0 - timedelta(hours=4), tags=("transport",))  # Mon 05:00


def reader(app: App, address: str, digest: str, topics: tuple[str, ...] | None = None) -> int:
    with transaction(app.engine) as conn:
        subscriber, _ = subs.add(conn, address, name="", digests=[digest], now=T0)
        choices.set_topics(conn, subscriber.id, {digest: ",".join(sorted(topics or ())) or None})
    return subscriber.id


def inbox(app: App) -> dict[str, list[email.message.EmailMessage]]:
    folder = app.settings.resolve(app.settings.mail.maildir) / "new"
    found: dict[str, list[email.message.EmailMessage]] = {}
    for path in sorted(folder.iterdir(), key=lambda f: f.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return found


def titles(message: email.message.EmailMessage) -> set[str]:
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    shown = {t for t in (TRAMS, THEATRE, DERBY, BUSES) if t in html}
    assert shown == {t for t in (TRAMS, THEATRE, DERBY, BUSES) if t in text}
    return shown


def test_each_reader_gets_only_their_topics_from_one_inlining(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles(app)
    reader(app, "all@example.org", "weekly")
    reader(app, "transport@example.org", "weekly", ("transport",))
    reader(app, "culture@example.org", "weekly", ("culture",))
    reader(app, "culture2@example.org", "weekly", ("culture",))
    reader(app, "sport@example.org", "weekly", ("sport", "transport"))
    inlined: list[int] = []
    real = render_module.inline_css
    monkeypatch.setattr(render_module, "inline_css", lambda h: inlined.append(1) or real(h))

    run = send_digest(app, "weekly", slot=WEEKLY_SLOT)
    assert run.status == "composed" and run.queued == 5
    assert len(inlined) == 2  # the edition, and once fenced for every variant
    with app.engine.connect() as conn:
        keys = conn.execute(select(edition_variants.c.key)).scalars().all()
    assert sorted(keys) == ["t:culture", "t:sport,transport", "t:transport"]
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 5

    mail = inbox(app)
    assert titles(mail["all@example.org"][0]) == {TRAMS, THEATRE, DERBY, BUSES}
    assert titles(mail["transport@example.org"][0]) == {TRAMS, BUSES}
    assert titles(mail["culture@example.org"][0]) == {THEATRE, DERBY}
    assert titles(mail["sport@example.org"][0]) == {TRAMS, DERBY, BUSES}
    transport = mail["transport@example.org"][0].get_body(("html",)).get_content()
    assert "2 new articles" in transport and "4 new articles" not in transport
    text = mail["transport@example.org"][0].get_body(("plain",)).get_content()
    assert "1. Bus lanes extended" in text and "2. Night trams return" in text  # renumbered
    assert "@@" not in text and "@@" not in transport
    assert "Derby" not in transport.split("<body")[1]  # the preheader is theirs too
    # The footer links the reader's own private feed.
    assert re.search(r'href="https://news\.example\.org/my/[^"]+/atom\.xml"', transport)


def test_a_reader_whose_topics_had_nothing_gets_no_email(app: App) -> None:
    add_dated_article(app, TRAMS, T0 - timedelta(days=2), tags=("transport",))
    reader(app, "sport@example.org", "weekly", ("sport",))
    reader(app, "all@example.org", "weekly")
    assert send_digest(app, "weekly", slot=WEEKLY_SLOT).queued == 1
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 1
    assert list(inbox(app)) == ["all@example.org"]


def test_a_template_without_fences_still_gives_each_reader_their_topics(app: App, tmp_path) -> None:
    """An operator's own template: each distinct selection is rendered whole instead."""
    source = (packaged_templates_dir() / "digest.html").read_text()
    folder = app.settings.templates_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "digest.html").write_text(
        source.replace("{{ article.begin }}", "").replace("{{ article.end }}", "")
    )
    articles(app)
    reader(app, "transport@example.org", "weekly", ("transport",))
    send_digest(app, "weekly", slot=WEEKLY_SLOT)
    drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    assert titles(inbox(app)["transport@example.org"][0]) == {TRAMS, BUSES}


def test_switching_frequency_never_sends_an_article_twice(app: App, client: FlaskClient) -> None:
    articles(app)
    switcher = reader(app, "switch@example.org", "daily")
    reader(app, "weekly@example.org", "weekly")
    assert send_digest(app, "daily", slot=DAILY_SLOT).queued == 1
    drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    assert titles(inbox(app)["switch@example.org"][0]) == {THEATRE, DERBY, BUSES}

    page = preferences(client, app, switcher)
    answer = client.post(page, data=form(client, page, {"often-news": "weekly"}))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.engine.connect() as conn:
        assert subs.get(conn, switcher).digests == ("weekly",)

    send_digest(app, "weekly", slot=WEEKLY_SLOT)
    drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    mail = inbox(app)
    assert titles(mail["weekly@example.org"][0]) == {TRAMS, THEATRE, DERBY, BUSES}
    [daily, weekly] = mail["switch@example.org"]
    assert titles(daily) == {THEATRE, DERBY, BUSES}
    assert titles(weekly) == {TRAMS}  # only what the daily did not bring


def test_rows_still_queued_for_the_old_frequency_are_dropped_when_switching(
    app: App, client: FlaskClient
) -> None:
    articles(app)
    switcher = reader(app, "switch@example.org", "daily")
    send_digest(app, "daily", slot=DAILY_SLOT)  # queued, not yet sent
    page = preferences(client, app, switcher)
    client.post(page, data=form(client, page, {"often-news": "weekly"}))
    send_digest(app, "weekly", slot=WEEKLY_SLOT)
    drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    [weekly] = inbox(app)["switch@example.org"]  # the daily row was suppressed
    assert titles(weekly) == {TRAMS, THEATRE, DERBY, BUSES}
    with app.engine.connect() as conn:
        states = conn.execute(select(deliveries.c.status).order_by(deliveries.c.id)).scalars()
        assert list(states) == ["suppressed", "sent"]


# -- the forms ----------------------------------------------------------------------------


def preferences(client: FlaskClient, app: App, subscriber_id: int) -> str:
    signer = client.application.extensions["syndicate"].signer
    return "/preferences/" + signer.make("preferences", subscriber_id, T0 + timedelta(days=5))


def form(client: FlaskClient, page: str, values: dict[str, object]) -> dict[str, object]:
    html = client.get(page).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)[1]
    return {"csrf": csrf, "name": "", "timezone": "", **values}


def test_the_forms_offer_topics_and_how_often(client: FlaskClient, app: App) -> None:
    html = client.get("/subscribe").get_data(as_text=True)
    assert "City News: how often" in html
    assert 'name="often-news" value="daily"' in html and 'name="often-news" value="weekly"' in html
    assert 'name="topics-news" value="culture"' in html
    assert 'name="digest" value="plain"' in html
    answer = client.post(
        "/subscribe",
        data={
            "email": "new@example.org",
            "often-news": "weekly",
            "topics-news": ["culture", "transport"],
        },
    )
    assert answer.status_code == 200
    with app.engine.connect() as conn:
        found = subs.find(conn, "new@example.org")
        assert found.digests == ("weekly",)
        assert choices.topics_of(conn, found.id) == {"weekly": ("culture", "transport")}
    page = preferences(client, app, found.id)
    html = client.get(page).get_data(as_text=True)
    assert 'value="weekly" checked' in html
    assert 'value="culture" checked' in html and 'value="sport">' in html
    assert re.search(r'href="https://news\.example\.org/my/[^"]+/atom\.xml" id="feed-atom"', html)
    client.post(page, data=form(client, page, {"often-news": "daily", "topics-news": ["sport"]}))
    with app.engine.connect() as conn:
        assert choices.topics_of(conn, found.id) == {"daily": ("sport",)}
    # Every topic ticked is stored as "all", so a topic added later reaches the reader.
    every = ["transport", "culture", "sport"]
    client.post(page, data=form(client, page, {"often-news": "daily", "topics-news": every}))
    with app.engine.connect() as conn:
        assert choices.topics_of(conn, found.id) == {"daily": None}


@pytest.mark.parametrize(
    "values",
    [
        {"often-news": "monthly"},
        {"often-news": "plain"},  # a digest, but not one of this feed's frequencies
        {"often-news": "weekly", "topics-news": "politics"},
        {"often-news": "weekly", "topics-news": "transport\x00"},
        {"often-news": "x" * 5000},
        {"often-news": "weekly", "topics-news": ["culture"] * 200 + ["nope"]},
    ],
)
def test_a_topic_or_frequency_not_offered_is_refused(
    client: FlaskClient, app: App, values: dict[str, object]
) -> None:
    answer = client.post("/subscribe", data={"email": "x@example.org", **values})
    assert answer.status_code == 400
    with app.engine.connect() as conn:
        assert subs.find(conn, "x@example.org") is None
    subscriber = reader(app, "r@example.org", "daily", ("sport",))
    page = preferences(client, app, subscriber)
    answer = client.post(page, data=form(client, page, values))
    assert answer.status_code == 400
    with app.engine.connect() as conn:
        assert subs.get(conn, subscriber).digests == ("daily",)
        assert choices.topics_of(conn, subscriber) == {"daily": ("sport",)}


# -- the private feed -------------------------------------------------------------------


def feed_path(client: FlaskClient, subscriber_id: int, key: int = 0, kind: str = "atom.xml"):
    signer = client.application.extensions["syndicate"].signer
    return f"/my/{feed_token(signer, subscriber_id, key)}/{kind}"


def test_the_private_feed_carries_exactly_the_readers_editions(
    app: App, client: FlaskClient
) -> None:
    articles(app)
    transport = reader(app, "transport@example.org", "weekly", ("transport",))
    other = reader(app, "other@example.org", "daily")
    send_digest(app, "weekly", slot=WEEKLY_SLOT)
    send_digest(app, "daily", slot=DAILY_SLOT)
    atom = client.get(feed_path(client, transport))
    assert atom.status_code == 200 and atom.mimetype == "application/atom+xml"
    assert atom.headers["Cache-Control"] == "private, no-cache"
    parsed = feedparser.parse(atom.data)
    assert not parsed.bozo, parsed.bozo_exception
    [entry] = parsed.entries
    content = entry.content[0].value
    assert TRAMS in content and BUSES in content and THEATRE not in content
    assert entry.link == "https://news.example.org/digests/weekly/2026-03-02"
    assert (
        client.get(
            feed_path(client, transport), headers={"If-None-Match": atom.headers["ETag"]}
        ).status_code
        == 304
    )
    data = json.loads(client.get(feed_path(client, transport, kind="feed.json")).data)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    [item] = data["items"]
    assert item["id"] == entry.id and TRAMS in item["content_html"]
    assert THEATRE not in item["content_html"]
    other_feed = feedparser.parse(client.get(feed_path(client, other)).data)
    assert [e.title for e in other_feed.entries] == ["City News daily: 2026-03-02"]


def test_revoking_or_unsubscribing_ends_the_private_feed(app: App, client: FlaskClient) -> None:
    subscriber = reader(app, "r@example.org", "weekly")
    old = feed_path(client, subscriber)
    assert client.get(old).status_code == 200
    page = preferences(client, app, subscriber)
    answer = client.post(page, data=form(client, page, {"action": "revoke-feed"}))
    assert answer.status_code == 200
    new = feed_path(client, subscriber, 1)
    assert new.split("/")[2] in answer.get_data(as_text=True)  # the page shows the new URL
    assert client.get(old).status_code == 410
    assert client.get(old.replace("atom.xml", "feed.json")).status_code == 410
    assert client.get(new).status_code == 200
    with transaction(app.engine) as conn:
        subs.unsubscribe(conn, subscriber, T0)
    assert client.get(new).status_code == 410
    assert client.get(new.replace("atom.xml", "feed.json")).status_code == 410


def test_forged_feed_tokens_are_a_4xx(app: App, client: FlaskClient, web: Flask) -> None:
    subscriber = reader(app, "r@example.org", "weekly")
    signer = web.extensions["syndicate"].signer
    good = feed_token(signer, subscriber, 0)
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        signer.make("unsubscribe", subscriber, T0 + timedelta(days=3)),  # another purpose
        signer.make("feed", "1", T0 + timedelta(days=3)),  # no key part
        signer.make("feed", f"{subscriber}.x", T0 + timedelta(days=3)),
        signer.make("feed", "9" * 40 + ".0", T0 + timedelta(days=3)),
        signer.make("feed", f"{subscriber}.0", T0 - timedelta(days=3)),  # expired
        "a" * 600,
        "%00",
        ".",
        "é.é",
    ]
    for token in forged:
        for kind in ("atom.xml", "feed.json"):
            answer = client.get(f"/my/{token}/{kind}")
            assert 400 <= answer.status_code < 500, (token, answer.status_code)
    assert client.get(f"/my/{feed_token(signer, 999_999, 0)}/atom.xml").status_code == 410
    assert client.get("/my").status_code == 200


# -- welcome ------------------------------------------------------------------------------


def test_confirming_queues_one_welcome_through_the_outbox(app: App, client: FlaskClient) -> None:
    articles(app)
    send_digest(app, "weekly", slot=WEEKLY_SLOT)  # the latest edition the welcome links
    client.post("/subscribe", data={"email": "new@example.org", "often-news": "weekly"})
    [confirmation] = inbox(app)["new@example.org"]
    text = confirmation.get_body(("plain",)).get_content()
    link = re.search(r"https://news\.example\.org(/confirm/\S+)", text)[1]
    assert client.post(link).status_code == 200
    assert client.post(link).status_code == 200  # a second press
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(func.count())
            .select_from(deliveries.join(editions, editions.c.id == deliveries.c.edition_id))
            .where(editions.c.digest == "weekly.welcome")
        ).scalar_one()
    assert rows == 1
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 1
    welcome = inbox(app)["new@example.org"][-1]
    assert welcome["Subject"] == "Welcome to City News weekly"
    assert welcome["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
    body = welcome.get_body(("plain",)).get_content()
    assert "https://news.example.org/digests/weekly/2026-03-02" in body
    assert "weekly, up to 20 articles in each edition, the next one on 2026-03-09" in body
    # Leaving and coming back with nothing new to say: no second welcome.
    with app.engine.connect() as conn:
        subscriber = subs.find(conn, "new@example.org")
    with transaction(app.engine) as conn:
        subs.unsubscribe(conn, subscriber.id, T0)
    client.post("/subscribe", data={"email": "new@example.org", "often-news": "weekly"})
    link = re.search(
        r"https://news\.example\.org(/confirm/\S+)",
        inbox(app)["new@example.org"][-1].get_body(("plain",)).get_content(),
    )[1]
    assert client.post(link).status_code == 200
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 0
    with app.engine.connect() as conn:  # a welcome is not an edition: no edition.sent
        kinds = set(conn.execute(select(events.c.type)).scalars())
    assert "edition.sent" not in kinds and "subscriber.confirmed" in kinds


def test_a_digest_without_welcome_sends_none(app: App, client: FlaskClient) -> None:
    client.post("/subscribe", data={"email": "p@example.org", "digest": "plain"})
    [confirmation] = inbox(app)["p@example.org"]
    link = re.search(
        r"https://news\.example\.org(/confirm/\S+)", confirmation.get_body(("plain",)).get_content()
    )[1]
    client.post(link)
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 0


def test_the_console_preview_shows_no_working_private_feed_link(app: App) -> None:
    from syndicate.web.console.editions import get, message_for

    articles(app)
    subscriber = reader(app, "r@example.org", "weekly")
    run = send_digest(app, "weekly", slot=WEEKLY_SLOT)
    with app.engine.connect() as conn:
        edition = get(conn, run.edition_id)
        found = subs.get(conn, subscriber)
    shown = message_for(app, edition, found)
    assert "https://news.example.org/my/preview-not-a-working-link/atom.xml" in shown.html
    assert not re.search(r"/my/(?!preview-not-a-working-link)[^/\"]+/atom\.xml", shown.html)


def test_the_console_and_the_api_show_a_reader_the_variant_they_were_sent(app: App) -> None:
    from syndicate.web.console.editions import get, message_for

    articles(app)
    transport = reader(app, "transport@example.org", "weekly", ("transport",))
    everything = reader(app, "all@example.org", "weekly")
    run = send_digest(app, "weekly", slot=WEEKLY_SLOT)
    with app.engine.connect() as conn:
        edition = get(conn, run.edition_id)
        people = subs.get(conn, transport), subs.get(conn, everything)
    shown = {who.email: message_for(app, edition, who) for who in people if who}
    assert titles(shown["transport@example.org"].message) == {TRAMS, BUSES}
    assert titles(shown["all@example.org"].message) == {TRAMS, THEATRE, DERBY, BUSES}
    sample = message_for(app, edition, None)  # no reader named: the whole edition
    assert titles(sample.message) == {TRAMS, THEATRE, DERBY, BUSES}
    # What the preview shows is what the worker sends.
    drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    sent = inbox(app)["transport@example.org"][0]
    assert sent["Subject"] == shown["transport@example.org"].message["Subject"]
    assert titles(sent) == {TRAMS, BUSES}


def test_digest_preview_for_a_reader_shows_only_their_topics(app: App, config_file) -> None:
    from click.testing import CliRunner

    from syndicate.cli import main

    articles(app)
    reader(app, "transport@example.org", "weekly", ("transport",))
    reader(app, "all@example.org", "weekly")

    def preview(address: str) -> email.message.EmailMessage:
        result = CliRunner().invoke(
            main,
            ["--config", str(config_file), "--log-level", "error", "digest", "preview",
             "weekly", "--subscriber", address, "--at", "2026-03-02T09:00", "--raw"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return email.message_from_bytes(result.stdout_bytes, policy=policy.default)

    # Before the edition is stored (rendered in memory) and after (as it was queued).
    for _ in ("draft", "stored"):
        assert titles(preview("transport@example.org")) == {TRAMS, BUSES}
        assert titles(preview("all@example.org")) == {TRAMS, THEATRE, DERBY, BUSES}
        assert send_digest(app, "weekly", slot=WEEKLY_SLOT).status in ("composed", "exists")


def test_a_broken_welcome_template_never_keeps_a_reader_from_confirming(
    app: App, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    folder = app.settings.templates_dir / "email"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "welcome.html").write_text("{% if %}")
    client.post("/subscribe", data={"email": "new@example.org", "often-news": "weekly"})
    [confirmation] = inbox(app)["new@example.org"]
    link = re.search(
        r"https://news\.example\.org(/confirm/\S+)", confirmation.get_body(("plain",)).get_content()
    )[1]
    assert client.post(link).status_code == 200
    with app.engine.connect() as conn:
        assert subs.find(conn, "new@example.org").status == "active"
    assert "welcome for subscriber" in caplog.text and "welcome.html" in caplog.text


def _digest(**extra: object) -> dict[str, object]:
    return {"name": "weekly", "title": "W", "feed": "news", "schedule": "0 8 * * MON", **extra}


@pytest.mark.parametrize(
    ("digests", "message"),
    [
        ([_digest(frequency="Weekly", feed=None)], "digests[0].frequency: needs"),
        (
            [_digest(frequency="Weekly"), _digest(name="other", frequency="Weekly")],
            "share a frequency label",
        ),
        ([_digest(topics=[{"tag": "a", "label": "A"}, {"tag": "a", "label": "B"}])], "same tag"),
        ([_digest(topics=[{"tag": "a,b", "label": "A"}])], "digests[0].topics[0].tag"),
        ([_digest(topics=[{"tag": "a", "label": "A", "colour": "red"}])], "colour"),
        ([_digest(name="w" * 60, welcome=True)], "too long for a welcome"),
    ],
)
def test_choice_settings_are_checked(digests: list[dict[str, object]], message: str) -> None:
    from pathlib import Path

    from syndicate.core.config import parse_settings
    from syndicate.core.errors import ConfigError

    data = {
        "site": {"title": "T", "url": "https://news.example.org/"},
        "mail": {"from": "T <t@news.example.org>"},
        "feeds": [{"name": "news", "path": "news"}],
        "digests": digests,
    }
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, base_dir=Path("."), source="config.toml")
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_changing_a_readers_other_details_keeps_their_topics(app: App) -> None:
    """A new name, time zone or another digest (the CLI, the console, the API) never
    resets the topics a reader chose; only the digest they leave loses its row."""
    subscriber_id = reader(app, "topics@example.org", "weekly", ("transport",))
    with transaction(app.engine) as conn:
        subs.set_preferences(
            conn, subscriber_id, digests=["weekly", "plain"], timezone="Europe/Berlin",
            name="Renamed", now=T0,
        )  # fmt: skip
        subs.add(conn, "topics@example.org", digests=["weekly", "plain"], now=T0)
        assert choices.topics_of(conn, subscriber_id) == {
            "weekly": ("transport",),
            "plain": None,
        }
        subs.set_preferences(
            conn, subscriber_id, digests=["plain"], timezone=None, name="Renamed", now=T0
        )
        assert choices.topics_of(conn, subscriber_id) == {"plain": None}
