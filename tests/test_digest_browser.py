"""The edition as a reader sees it: headless Chromium at phone and desktop widths.

Screenshots go to test-artifacts/ (digest-375.png, digest-1200.png, digest-dark.png).
Every request the page makes is answered in-process: nothing leaves the machine.
"""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from syndicate.core.db import editions
from syndicate.core.tokens import Signer
from syndicate.delivery.messages import edition_content, prepare, recipient_for
from syndicate.digest import compose
from syndicate.service.context import App
from tests.support import ARTIFACTS
from tests.support.digests import DIGEST_CONFIG
from tests.test_digest_golden import fixed_store

pytestmark = pytest.mark.browser

TITLES = (
    "Night trams return to the river line",
    "Budget hearing: what the bridge repair costs",
    "Library opens on Sundays <for a trial>",
)


def png(width: int, height: int) -> bytes:
    """A plain grey PNG, made here so the page needs no network."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x99\x99\x99" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


def personal_html(app: App) -> str:
    """The HTML exactly as one recipient's message carries it."""
    fixed_store(app)
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    with app.engine.connect() as conn:
        row = conn.execute(select(editions).where(editions.c.id == edition.id)).mappings().one()
    content = edition_content(app.settings, row)
    recipient = recipient_for(
        app.settings,
        Signer([b"k" * 32]),
        delivery_id=1,
        subscriber_id=7,
        email="reader@example.org",
        name="Reader",
        edition_id=edition.id,
        now=datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    return prepare(content, app.settings).html_for(recipient)


def open_page(browser, html: str, width: int, *, dark: bool = False):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light"
    )
    image = png(552, 310)

    def answer(route) -> None:
        route.fulfill(status=200, content_type="image/png", body=image)

    context.route("**/*", answer)
    page = context.new_page()
    page.set_content(html, wait_until="load")
    return context, page


@pytest.mark.parametrize("width", [375, 1200])
def test_edition_renders_readably_at_phone_and_desktop_width(app: App, browser, width: int) -> None:
    html = personal_html(app)
    context, page = open_page(browser, html, width)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"digest-{width}.png"), full_page=True)
        for title in TITLES:
            headline = page.locator("h2.headline a").filter(has_text=title)
            assert headline.is_visible()
            box = headline.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"horizontal overflow: {scroll_width}px > {width}px"
        unsubscribe = page.get_by_role("link", name="Unsubscribe")
        assert unsubscribe.is_visible()
        assert unsubscribe.get_attribute("href").startswith("https://news.example.org/unsubscribe/")
        image = page.locator("img.article-image")
        assert image.evaluate("img => img.naturalWidth") == 552
        assert image.bounding_box()["width"] <= min(552, width)
        container = page.locator("table.container").bounding_box()
        assert container is not None and container["width"] <= 600
    finally:
        context.close()


def test_dark_mode_turns_the_background_dark(app: App, browser) -> None:
    context, page = open_page(browser, personal_html(app), 375, dark=True)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "digest-dark.png"), full_page=True)
        background = page.evaluate(
            "getComputedStyle(document.querySelector('table.container')).backgroundColor"
        )
        red, green, blue = (int(x) for x in background[4:-1].split(",")[:3])
        assert max(red, green, blue) < 80, background
        assert page.locator("h2.headline a").filter(has_text=TITLES[0]).is_visible()
    finally:
        context.close()
