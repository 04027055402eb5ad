"""``/media/``: the site's pictures from ``paths.media``, contained like the feeds folder;
and the demo: the example articles' pictures are files in examples/media that the web
app serves, so the demo digest shows real pictures (checked in Chromium)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.digest import compose
from syndicate.intake.importers import import_paths
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import ARTIFACTS, EXAMPLES, REPO, write_config
from tests.test_web_feeds import running

DEMO_MEDIA = REPO / "examples" / "media"
AFTER_THE_EXAMPLES = datetime(2026, 11, 23, 9, tzinfo=UTC)
DEMO_DIGEST = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "weekly"
title = "Example News weekly"
feed = "all"
schedule = "0 8 * * MON"
lookback = "3650d"
"""


@pytest.fixture
def config_extra() -> str:
    return DEMO_DIGEST


@pytest.fixture
def media_app(tmp_path: Path, app: App) -> App:
    """The test app with ``paths.media`` pointing at a folder with one picture."""
    folder = tmp_path / "media"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "pic.jpg").write_bytes((DEMO_MEDIA / "2026/11/tram-line-4.jpg").read_bytes())
    (folder / ".secret.jpg").write_bytes(b"hidden")
    (tmp_path / "outside.txt").write_text("outside", encoding="utf-8")
    os.symlink(tmp_path / "outside.txt", folder / "link.txt")
    config = tmp_path / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        'templates = "templates"', 'templates = "templates"\nmedia = "media"'
    )
    config.write_text(text, encoding="utf-8")
    return App(load_settings(config), clock=app.clock)


def test_media_files_are_served_with_caching_and_ranges(media_app: App) -> None:
    client = create_app(media_app).test_client()
    expected = (DEMO_MEDIA / "2026/11/tram-line-4.jpg").read_bytes()
    response = client.get("/media/2026/pic.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == expected
    again = client.get("/media/2026/pic.jpg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    part = client.get("/media/2026/pic.jpg", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == expected[:100]
    media_app.close()


@pytest.mark.parametrize(
    "path",
    [
        "/media/.secret.jpg",
        "/media/link.txt",
        "/media/../config.toml",
        "/media/%2e%2e/config.toml",
        "/media/2026/",
        "/media/2026",
        "/media/nope.jpg",
        "/media/2026/pic.jpg%00.png",
        "/media/2026\\pic.jpg",
    ],
)
def test_hostile_media_paths_are_404(media_app: App, path: str) -> None:
    response = create_app(media_app).test_client().get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
    media_app.close()


def test_without_paths_media_nothing_is_served(app: App) -> None:
    assert create_app(app).test_client().get("/media/2026/11/tram-line-4.jpg").status_code == 404


def test_the_example_config_serves_the_demo_pictures() -> None:
    settings = load_settings(REPO / "config.toml")
    assert settings.paths.media is not None
    assert settings.resolve(settings.paths.media) == DEMO_MEDIA


@pytest.mark.browser
def test_the_demo_digest_shows_real_pictures(tmp_path: Path, app: App, browser) -> None:
    """Every picture of the demo edition is a file in examples/media that the web app
    serves; Chromium loads each one (its requests to the demo's address go to the test
    server) and shows it at the size the template gives."""
    (tmp_path / "demo").mkdir()
    config = write_config(tmp_path / "demo", app.settings.database.url, DEMO_DIGEST)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'templates = "templates"', f'templates = "templates"\nmedia = "{DEMO_MEDIA}"'
        ),
        encoding="utf-8",
    )
    demo = App(load_settings(config), clock=FixedClock(AFTER_THE_EXAMPLES))
    try:
        assert not import_paths(
            demo.engine, demo.settings, clock=demo.clock, paths=[EXAMPLES]
        ).failed
        edition = compose(
            demo.engine, demo.settings, demo.settings.digest("weekly"), clock=demo.clock
        )
        assert edition.status == "composed"
        images = lxml_html.fromstring(edition.html).xpath(
            "//img[contains(@class, 'article-image')]"
        )
        sources = [img.get("src") for img in images]
        assert len(sources) >= 4, sources
        with running(create_app(demo)) as server:
            for src in sources:
                parts = urlsplit(src)
                assert (parts.scheme, parts.netloc) == (
                    "http",
                    "127.0.0.1:8080",
                )  # the demo web app
                assert (DEMO_MEDIA / parts.path.removeprefix("/media/")).is_file()

            context = browser.new_context(viewport={"width": 600, "height": 900})
            context.route(
                "http://127.0.0.1:8080/media/**",
                lambda route: route.fulfill(
                    response=route.fetch(url=server + urlsplit(route.request.url).path)
                ),
            )
            page = context.new_page()
            page.set_content(edition.html, wait_until="load")
            loaded = page.eval_on_selector_all(
                "img.article-image", "imgs => imgs.map(i => [i.complete, i.naturalWidth])"
            )
            assert loaded and all(done and width >= 552 for done, width in loaded), loaded
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo-digest-pictures.png"), full_page=True)
            context.close()
    finally:
        demo.close()
