"""The feed list (feeds/index.html, served by the web app at /feeds/) in headless Chromium:
styled by the site's stylesheet, each feed with its description, formats and a URL to
copy (a button with script, a selectable field without), the digests' subscribe links;
fits a phone. Screenshots: test-artifacts/feeds-375.png, feeds-1280.png, feeds-nojs-375.png.
"""

from __future__ import annotations

import html5lib
import pytest

from syndicate.feeds import build_feeds
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import ARTIFACTS
from tests.support.feeds import add_numbered_article
from tests.test_web_feeds import running

pytestmark = pytest.mark.browser

RSS_URL = "https://news.example.org/feeds/all/rss.xml"


@pytest.fixture
def config_extra() -> str:
    return """
[[feeds]]
name = "all"
path = "all"
title = "Test News"
description = "Every article, as it is published."

[[feeds]]
name = "show"
path = "show"
title = "Test News podcast"
description = "The week in twenty minutes, to listen to."
formats = ["rss"]
podcast = true
podcast_image = "/media/show.png"
podcast_category = "News"

[[digests]]
name = "weekly"
title = "Test News weekly"
description = "The week's articles, every Monday."
feed = "all"
schedule = "0 8 * * MON"

[[digests]]
name = "daily"
title = "Test News daily"
schedule = "0 7 * * *"
"""


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"feeds-{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_feed_list_is_styled_copyable_and_fits_a_phone(app: App, browser) -> None:
    from playwright.sync_api import expect

    add_numbered_article(app, 1)
    build_feeds(app.engine, app.settings, clock=app.clock)
    built = (app.settings.feeds_dir / "index.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(built)  # valid HTML: any parse error raises

    with running(create_app(app)) as server:
        context = browser.new_context(viewport={"width": 375, "height": 740})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
        phone = context.new_page()
        problems: list[str] = []
        phone.on(  # a CSP refusal is reported on the console; a script error as pageerror
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        phone.on("pageerror", lambda error: problems.append(str(error)))
        response = phone.goto(server + "/feeds/")
        assert response is not None and response.status == 200
        assert "script-src 'sha256-" in response.headers["content-security-policy"]
        # The site's stylesheet applies (no browser-default serif), not blocked by the CSP.
        font = phone.evaluate("getComputedStyle(document.body).fontFamily")
        assert "system-ui" in font
        assert (
            phone.evaluate("getComputedStyle(document.querySelector('li.feed')).borderTopStyle")
            == "solid"
        )
        assert fits_the_screen(phone)

        feed = phone.locator("li.feed", has_text="Every article, as it is published.")
        expect(feed.get_by_role("heading", name="Test News")).to_be_visible()
        for label in ("RSS", "Atom", "JSON Feed"):
            expect(feed.get_by_role("link", name=label, exact=True)).to_be_visible()
        podcast = phone.locator("li.feed", has_text="The week in twenty minutes")
        expect(podcast.get_by_text("Podcast", exact=True)).to_be_visible()
        expect(podcast.get_by_role("link", name="Atom")).to_have_count(0)  # RSS only

        copy = feed.locator(f'button.copy[data-url="{RSS_URL}"]')
        expect(copy).to_be_visible()  # shown by the script
        copy.click()
        expect(copy).to_have_text("Copied")
        assert phone.evaluate("navigator.clipboard.readText()") == RSS_URL
        shot(phone, "375")
        assert problems == []  # no CSP violation, no script error

        # Each digest links its own subscribe page, with that digest chosen.
        link = phone.locator("li.feed", has_text="Test News weekly").get_by_role(
            "link", name="Subscribe"
        )
        href = link.get_attribute("href")
        assert href == "https://news.example.org/subscribe?digest=weekly"
        phone.goto(server + href.removeprefix("https://news.example.org"))  # the public URL, here
        expect(phone.get_by_label("Test News weekly")).to_be_checked()
        expect(phone.get_by_label("Test News daily")).not_to_be_checked()
        context.close()

        desktop = browser.new_page(viewport={"width": 1280, "height": 900})
        desktop.goto(server + "/feeds/")
        assert fits_the_screen(desktop)
        shot(desktop, "1280")
        desktop.close()

        # Without script: no dead button; the URL is there to select and copy.
        plain = browser.new_context(
            viewport={"width": 375, "height": 740}, java_script_enabled=False
        )
        page = plain.new_page()
        page.goto(server + "/feeds/")
        field = page.get_by_label("RSS address of Test News", exact=True)
        expect(field).to_have_value(RSS_URL)
        expect(page.get_by_role("button", name="Copy")).to_have_count(0)
        field.select_text()
        assert (
            page.evaluate(
                "window.getSelection().toString() || document.activeElement.value.substring(document.activeElement.selectionStart, document.activeElement.selectionEnd)"
            )
            == RSS_URL
        )
        shot(page, "nojs-375")
        plain.close()
