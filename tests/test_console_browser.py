"""The console in headless Chromium against a real `syndicate serve` on loopback.

The first operator is created with the CLI and sets a password through the printed
link; then log in, look at the dashboard (screenshots at 375 and 1280 px kept under
test-artifacts/), find a subscriber and suppress them, open an edition as a subscriber
got it, send a test copy (it lands in the Maildir), and log out.
"""

from __future__ import annotations

import email
import re
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from tests.support import ARTIFACTS, write_config
from tests.support.console import DIGESTS, MONDAY, PASSWORD, seed
from tests.support.processes import SyndicateProcess

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def maildir(directory: Path) -> list[email.message.EmailMessage]:
    folder = directory / "outbox" / "new"
    files = sorted(folder.iterdir(), key=lambda f: f.stat().st_mtime_ns) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A config on a SQLite store whose web app is on plain-http loopback, seeded."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", DIGESTS)
    text = config.read_text().replace(
        'base_url = "https://news.example.org/"', 'base_url = "http://127.0.0.1:8080/"'
    )
    config.write_text(text)
    with App(load_settings(config), clock=FixedClock(MONDAY)) as app:
        seed(app)
    return config


def test_operator_journey(site: Path, browser) -> None:
    from playwright.sync_api import expect

    added = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(site),
         "operators", "add", "Chief@Example.org", "--role", "owner"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    link = re.search(r"http://127\.0\.0\.1:8080(/admin/setup/\S+)", added.stdout).group(1)
    process = SyndicateProcess(site, "serve")
    try:
        line = process.wait_for(r"web app on http://")
        server = re.search(r"(http://127\.0\.0\.1:\d+)/", line).group(1)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        desktop = context.new_page()

        desktop.goto(server + link)  # the one-time link the CLI printed
        desktop.get_by_label("New password").fill(PASSWORD)
        desktop.get_by_label("The same again").fill(PASSWORD)
        desktop.get_by_role("button", name="Set password").click()
        expect(desktop.get_by_role("heading", name="Password set")).to_be_visible()

        desktop.goto(server + "/admin/subscribers")  # not logged in: the login page
        expect(desktop.get_by_role("heading", name="Log in")).to_be_visible()
        desktop.get_by_label("Email address").fill("chief@example.org")
        desktop.get_by_label("Password").fill(PASSWORD)
        desktop.get_by_role("button", name="Log in").click()
        expect(desktop.get_by_role("heading", name="Subscribers")).to_be_visible()

        desktop.get_by_role("link", name="Dashboard").click()
        expect(desktop.locator("svg.chart:visible")).to_have_count(3)
        expect(desktop.get_by_text("2 active subscribers")).to_be_visible()
        assert "Subscribers by status" in desktop.locator("svg.chart").first.inner_html()
        shot(desktop, "dashboard-1280")
        phone = context.new_page()  # same session, phone width
        phone.set_viewport_size({"width": 375, "height": 800})
        phone.goto(server + "/admin/")
        expect(phone.locator("svg.chart.narrow:visible")).to_have_count(3)
        assert fits_the_screen(phone)
        shot(phone, "dashboard-375")

        desktop.get_by_role("link", name="Subscribers").first.click()
        desktop.get_by_label("Address or name").fill("rea")
        desktop.get_by_role("button", name="Search").click()
        desktop.get_by_role("link", name="reader@example.org").click()
        expect(desktop.get_by_role("heading", name="reader@example.org")).to_be_visible()
        desktop.get_by_label("Reason (optional)").fill("asked by phone")
        desktop.get_by_role("button", name="Suppress").click()
        expect(desktop.locator("dl.facts")).to_contain_text("unsubscribed")
        shot(desktop, "subscriber-1280")
        with App(load_settings(site)) as app, app.engine.connect() as conn:
            assert subs.find(conn, "reader@example.org").status == "unsubscribed"

        desktop.get_by_role("link", name="Editions").click()
        desktop.locator("table a").first.click()
        desktop.get_by_label("Subscriber address").fill("other@example.org")
        desktop.get_by_role("button", name="Show").click()
        expect(desktop.locator("table.headers")).to_contain_text("other@example.org")
        frame = desktop.frame_locator("iframe.edition")
        expect(frame.locator("body")).to_contain_text("Test News weekly")
        shot(desktop, "edition-1280")

        desktop.get_by_label("Send a [TEST] copy to").fill("proof@example.org")
        desktop.get_by_role("button", name="Send test").click()
        expect(desktop.get_by_role("heading", name="Test sent")).to_be_visible()
        test_copy = maildir(site.parent)[-1]
        assert test_copy["To"].addresses[0].addr_spec == "proof@example.org"
        assert test_copy["Subject"].startswith("[TEST] ")

        desktop.get_by_role("link", name="Audit").click()
        expect(desktop.locator("main")).to_contain_text("subscriber.suppress")
        expect(desktop.locator("main")).to_contain_text("edition.test")

        desktop.get_by_role("button", name="Log out").click()
        expect(desktop.get_by_role("heading", name="Log in")).to_be_visible()
        desktop.goto(server + "/admin/")
        expect(desktop.get_by_role("heading", name="Log in")).to_be_visible()
    finally:
        process.stop()
