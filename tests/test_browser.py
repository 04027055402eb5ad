"""End to end in headless Chromium against a real waitress server on loopback.

subscribe through the form -> the confirmation email lands in the Maildir -> open its
link and press confirm -> active -> a digest is composed, queued and delivered ->
one-click POST to its List-Unsubscribe URL (as a mail client does) -> unsubscribed.
Screenshots of every page go to test-artifacts/.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from urllib.parse import urlsplit

import pytest
import requests

from syndicate.core.clock import FixedClock
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import ARTIFACTS, EXAMPLES
from tests.support.webserver import running

pytestmark = pytest.mark.browser

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # after the example articles


@pytest.fixture
def config_extra() -> str:
    return """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "weekly"
title = "Test News weekly"
description = "The week's articles, every Monday."
feed = "all"
schedule = "0 8 * * MON"
lookback = "60d"
"""


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


def mails(app: App) -> list[email.message.EmailMessage]:
    folder = app.settings.resolve(app.settings.mail.maildir) / "new"
    files = sorted(folder.iterdir(), key=lambda f: f.stat().st_mtime_ns) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def local(server: str, public_url: str) -> str:
    """A link from an email (on the public base URL), pointed at the test server."""
    parts = urlsplit(public_url)
    return server + parts.path


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def status(app: App, address: str) -> str:
    with app.engine.connect() as conn:
        return subs.find(conn, address).status


def test_subscribe_confirm_receive_and_one_click_unsubscribe(app: App, browser) -> None:
    from playwright.sync_api import expect

    from syndicate.delivery.drain import drain
    from syndicate.intake.importers.pipeline import import_paths
    from syndicate.service.jobs import send_digest

    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    address = "reader@example.org"
    with running(create_app(app)) as server:
        phone = browser.new_page(viewport={"width": 375, "height": 740})
        phone.goto(server + "/subscribe")
        assert fits_the_screen(phone)
        shot(phone, "subscribe-375")
        phone.get_by_label("Email address").fill(address)
        phone.get_by_label("Name (optional)").fill("Rea <b>Der</b>")
        assert phone.get_by_label("Test News weekly").is_checked()
        phone.keyboard.press("Tab")  # the keyboard reaches the button: press it with Enter
        phone.get_by_role("button", name="Subscribe").focus()
        phone.keyboard.press("Enter")
        expect(phone.get_by_role("heading", name="Check your inbox")).to_be_visible()
        shot(phone, "check-inbox-375")
        assert status(app, address) == "pending"

        [confirmation] = mails(app)
        assert confirmation["To"].addresses[0].addr_spec == address
        link = next(
            line.strip()
            for line in confirmation.get_body(("plain",)).get_content().splitlines()
            if "/confirm/" in line
        )
        desktop = browser.new_page(viewport={"width": 1200, "height": 800})
        desktop.goto(local(server, link))
        shot(desktop, "confirm-1200")
        assert status(app, address) == "pending"  # opening the link changes nothing
        desktop.get_by_role("button", name="Confirm my subscription").click()
        expect(desktop.get_by_role("heading", name="You are subscribed")).to_be_visible()
        assert "Rea <b>Der</b>" in desktop.inner_text("main")  # shown as text, not markup
        shot(desktop, "confirmed-1200")
        assert status(app, address) == "active"

        desktop.get_by_role("link", name="Change your preferences").click()
        desktop.get_by_label("Your time zone").select_option("Asia/Tokyo")
        desktop.get_by_role("button", name="Save preferences").click()
        expect(desktop.get_by_role("status")).to_have_text("Your preferences are saved.")
        shot(desktop, "preferences-1200")
        with app.engine.connect() as conn:
            assert subs.find(conn, address).timezone == "Asia/Tokyo"

        run = send_digest(app, "weekly")
        assert run.status == "composed"
        assert (
            drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 1
        )
        digest = mails(app)[-1]
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = digest["List-Unsubscribe"].split(",")[0].strip().strip("<>")
        assert unsubscribe.startswith("https://news.example.org/unsubscribe/")

        phone.goto(local(server, unsubscribe))  # a scanner or a click: a page, no change
        shot(phone, "unsubscribe-375")
        assert fits_the_screen(phone)
        assert status(app, address) == "active"

        # What a mail client does for RFC 8058: a bare POST, no cookies, no redirects.
        for _ in range(2):
            answer = requests.post(
                local(server, unsubscribe),
                data={"List-Unsubscribe": "One-Click"},
                allow_redirects=False,
                timeout=10,
            )
            assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
        assert status(app, address) == "unsubscribed"
        phone.goto(local(server, unsubscribe))
        expect(phone.get_by_role("heading", name="You are not subscribed")).to_be_visible()

        view = next(
            line.strip()
            for line in digest.get_body(("plain",)).get_content().splitlines()
            if "/digests/weekly/" in line
        )
        desktop.goto(local(server, view.split()[-1]))
        shot(desktop, "edition-1200")
        assert "@@" not in desktop.content()
