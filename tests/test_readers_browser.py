"""A reader's choices in headless Chromium against a real waitress server on loopback.

Pick topics and "how often" on the subscribe form -> confirm -> the welcome email ->
an edition with only those topics -> switch to daily on the preferences page -> the
daily edition leaves out what the weekly already brought -> the private feed (from the
preferences page) read by feedparser -> unsubscribe -> the private feed is 410 Gone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import requests

from syndicate.core.clock import FixedClock
from syndicate.delivery.drain import drain
from syndicate.digest import choices
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.service.jobs import send_digest
from syndicate.web import create_app
from tests.support import T0
from tests.support.digests import add_dated_article
from tests.test_browser import fits_the_screen, local, shot
from tests.test_readers_choice import CONFIG, WEEKLY_SLOT, inbox
from tests.test_web_feeds import running

pytestmark = pytest.mark.browser

TRAMS, THEATRE, DERBY, BUSES, FERRY = (
    "Night trams return",
    "Theatre reopens",
    "Derby day",
    "Bus lanes extended",
    "Ferry timetable",
)
EVERY = (TRAMS, THEATRE, DERBY, BUSES, FERRY)
TUESDAY_SLOT = datetime(2026, 3, 3, 7, tzinfo=UTC)


@pytest.fixture
def config_extra() -> str:
    return CONFIG


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def shown(message) -> set[str]:
    html = message.get_body(("html",)).get_content()
    return {title for title in EVERY if title in html}


def link_in(message, pattern: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(r"https://news\.example\.org/" + pattern + r"\S*", text)
    assert found, text
    return found[0]


def test_topics_how_often_private_feed_and_its_end(app: App, browser, clock: FixedClock) -> None:
    from playwright.sync_api import expect

    add_dated_article(app, TRAMS, T0 - timedelta(days=2), tags=("transport",))
    add_dated_article(app, THEATRE, T0 - timedelta(hours=20), tags=("culture",))
    add_dated_article(app, DERBY, T0 - timedelta(hours=16), tags=("sport",))
    add_dated_article(app, BUSES, T0 - timedelta(minutes=30), tags=("transport",))
    address = "reader@example.org"
    with running(create_app(app)) as server:
        page = browser.new_page(viewport={"width": 375, "height": 740})
        page.goto(server + "/subscribe")
        page.get_by_label("Email address").fill(address)
        page.get_by_label("Weekly").check()
        page.get_by_label("Plain digest").uncheck()
        expect(page.get_by_label("Transport")).to_be_checked()  # every topic until unticked
        page.get_by_label("Sport", exact=True).uncheck()
        expect(page.get_by_label("Culture")).to_be_checked()
        assert fits_the_screen(page)
        shot(page, "readers-subscribe-375")
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

        [confirmation] = inbox(app)[address]
        page.goto(local(server, link_in(confirmation, "confirm/")))
        page.get_by_role("button", name="Confirm my subscription").click()
        expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
        assert (
            drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 1
        )
        welcome = inbox(app)[address][-1]
        assert welcome["Subject"] == "Welcome to City News weekly"
        assert "Past editions will be in the archive" in welcome.get_body(("plain",)).get_content()

        assert send_digest(app, "weekly", slot=WEEKLY_SLOT).queued == 1
        assert (
            drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 1
        )
        weekly = inbox(app)[address][-1]
        assert shown(weekly) == {TRAMS, THEATRE, BUSES}  # no Derby: sport was not picked

        page.goto(local(server, link_in(weekly, "preferences/")))
        expect(page.get_by_label("Weekly")).to_be_checked()
        expect(page.get_by_label("Transport")).to_be_checked()
        page.get_by_label("Daily").check()
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("status")).to_have_text("Your preferences are saved.")
        shot(page, "readers-preferences-375")
        with app.engine.connect() as conn:
            reader = subs.find(conn, address)
            assert reader.digests == ("daily",)
            assert choices.topics_of(conn, reader.id) == {"daily": ("culture", "transport")}

        add_dated_article(app, FERRY, T0 + timedelta(hours=3), tags=("transport",))
        clock.set(TUESDAY_SLOT + timedelta(minutes=30))
        assert send_digest(app, "daily", slot=TUESDAY_SLOT).queued == 1
        assert (
            drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 1
        )
        daily = inbox(app)[address][-1]
        assert shown(daily) == {FERRY}  # the buses came with the weekly already

        feed_url = page.locator("#feed-atom").get_attribute("href")
        assert feed_url.startswith("https://news.example.org/my/")
        answer = requests.get(local(server, feed_url), timeout=10)
        assert answer.status_code == 200
        parsed = feedparser.parse(answer.content)
        assert not parsed.bozo, parsed.bozo_exception
        contents = [entry.content[0].value for entry in parsed.entries]
        assert [{t for t in EVERY if t in c} for c in contents] == [
            {FERRY},
            {TRAMS, THEATRE, BUSES},
        ]

        page.get_by_role("link", name="Unsubscribe from everything").click()
        page.get_by_role("button", name="Unsubscribe").click()
        with app.engine.connect() as conn:
            assert subs.find(conn, address).status == "unsubscribed"
        for kind in ("atom.xml", "feed.json"):
            gone = requests.get(local(server, feed_url.replace("atom.xml", kind)), timeout=10)
            assert gone.status_code == 410
