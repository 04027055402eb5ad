"""The public pages as a search engine and a chat app read them: valid HTML, a canonical
link, a description, Open Graph and Twitter tags, JSON-LD of the right type, a sitemap
with every archive page, and a robots.txt that keeps private URLs out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import html5lib
import pytest
from flask.testing import FlaskClient
from lxml import etree

from syndicate.digest import compose
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support.digests import DIGEST_CONFIG, add_dated_article

SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)
HOSTILE = 'Fares "up" </script><script>alert(1)</script> & <b>more</b>'
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "https://news.example.org/"  # web.base_url falls back to site.url in the tests


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG.replace(
        'title = "Test News weekly"\n',
        'title = "Test News weekly"\ndescription = "The week\'s news, every Monday."\n',
    )


@pytest.fixture
def client(app: App) -> FlaskClient:
    return create_app(app).test_client()


@pytest.fixture
def two_editions(app: App) -> None:
    add_dated_article(app, "Older piece", SLOT - timedelta(days=9))
    compose(
        app.engine,
        app.settings,
        app.settings.digest("weekly"),
        clock=app.clock,
        slot=SLOT - timedelta(days=7),
    )
    add_dated_article(app, HOSTILE, SLOT - timedelta(days=1), image_url=f"{BASE}media/fares.jpg")
    add_dated_article(
        app, "Second piece", SLOT - timedelta(days=2), image_url=f"{BASE}media/second.png"
    )
    compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock, slot=SLOT)


def parse_strict(html: str) -> etree._Element:
    """html5lib in strict mode: any parse error (stray tag, bad nesting) fails."""
    parser = html5lib.HTMLParser(
        strict=True, namespaceHTMLElements=False, tree=html5lib.getTreeBuilder("lxml")
    )
    return parser.parse(html)


def meta_tags(root: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name")
        if key:
            found[key] = meta.get("content", "")
    return found


def json_ld(root: etree._Element) -> dict:
    (script,) = [s for s in root.iter("script") if s.get("type") == "application/ld+json"]
    return json.loads(script.text)


def test_an_edition_page_shows_title_description_and_picture_when_shared(
    client: FlaskClient, two_editions: None
) -> None:
    response = client.get("/digests/weekly/2026-03-02")
    assert response.status_code == 200
    root = parse_strict(response.get_data(as_text=True))
    tags = meta_tags(root)
    url = f"{BASE}digests/weekly/2026-03-02"
    (canonical,) = [link for link in root.iter("link") if link.get("rel") == "canonical"]
    assert canonical.get("href") == url
    assert tags["og:url"] == url and tags["og:type"] == "article"
    assert tags["og:title"] == "Test News weekly: 2026-03-02"
    assert tags["twitter:card"] == "summary_large_image"
    # The lead article's picture, absolute.
    assert tags["og:image"] == tags["twitter:image"] == f"{BASE}media/fares.jpg"
    # The description names the edition's articles, as plain text.
    assert tags["description"] == tags["og:description"] == tags["twitter:description"]
    assert tags["description"].startswith('Fares "up" ') and "Second piece" in tags["description"]
    assert "<b>" not in tags["description"]

    data = json_ld(root)
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    assert data["url"] == url and data["image"] == [f"{BASE}media/fares.jpg"]
    assert data["isPartOf"] == {
        "@type": "CollectionPage",
        "name": "Test News weekly",
        "url": f"{BASE}digests/weekly/",
    }
    assert datetime.fromisoformat(data["datePublished"])
    # The hostile title stays inside its script element: exactly one real script.
    assert len(list(root.iter("script"))) == 1


def test_the_archive_index_is_a_collection_page_listing_every_edition(
    client: FlaskClient, two_editions: None
) -> None:
    response = client.get("/digests/weekly/")
    assert response.status_code == 200
    root = parse_strict(response.get_data(as_text=True))
    tags = meta_tags(root)
    assert tags["description"] == "The week's news, every Monday."
    assert tags["og:title"] == "Test News weekly" and tags["og:url"] == f"{BASE}digests/weekly/"
    assert tags["og:image"] == f"{BASE}media/fares.jpg"  # the newest edition's lead picture
    data = json_ld(root)
    assert data["@type"] == "CollectionPage" and data["url"] == f"{BASE}digests/weekly/"
    listed = [item["url"] for item in data["mainEntity"]["itemListElement"]]
    assert listed == [f"{BASE}digests/weekly/2026-03-02", f"{BASE}digests/weekly/2026-02-23"]


def test_an_edition_without_pictures_gets_a_summary_card(
    client: FlaskClient, two_editions: None
) -> None:
    root = parse_strict(client.get("/digests/weekly/2026-02-23").get_data(as_text=True))
    tags = meta_tags(root)
    assert "og:image" not in tags and tags["twitter:card"] == "summary"
    assert tags["description"] == "Older piece"
    assert "image" not in json_ld(root)


def test_the_sitemap_lists_every_archive_page(
    client: FlaskClient, app: App, two_editions: None
) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = etree.fromstring(response.data)
    assert root.tag == f"{SITEMAP}urlset"
    urls = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in root}
    assert set(urls) == {
        BASE,
        f"{BASE}digests/weekly/",
        f"{BASE}digests/weekly/2026-03-02",
        f"{BASE}digests/weekly/2026-02-23",
        f"{BASE}digests/daily/",
    }
    assert urls[f"{BASE}digests/weekly/2026-02-23"] == "2026-03-02"  # the day it was composed
    for loc in urls:  # every listed page is there
        assert client.get(loc.removeprefix(BASE.rstrip("/"))).status_code == 200, loc


def test_robots_keeps_private_urls_out_and_names_the_sitemap(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.split(": ", 1)[1] for line in lines if line.startswith("Disallow:")}
    for path in ("/admin/", "/confirm/", "/unsubscribe", "/preferences", "/r/", "/api/", "/my/"):
        assert path in disallowed
    assert "/digests/" not in disallowed and "/" not in disallowed
    assert f"Sitemap: {BASE}sitemap.xml" in lines


@pytest.mark.parametrize(
    "path",
    [
        "/digests/weekly/2026-13-45",
        "/digests/weekly/..%2f..%2fetc%2fpasswd",
        "/digests/nope/",
        "/digests/weekly/2026-03-02%3Cscript%3E",
        "/sitemap.xml/extra",
        "/robots.txt%00",
    ],
)
def test_hostile_archive_paths_are_404(client: FlaskClient, two_editions: None, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def checked(html: str) -> set[str]:
    root = parse_strict(html)
    return {
        i.get("value")
        for i in root.iter("input")
        if i.get("name") == "digest" and i.get("checked") is not None
    }


def test_a_digest_subscribe_link_chooses_that_digest(client: FlaskClient) -> None:
    assert checked(client.get("/subscribe?digest=daily").get_data(as_text=True)) == {"daily"}
    assert checked(client.get("/subscribe").get_data(as_text=True)) == {"weekly", "daily"}


@pytest.mark.parametrize("query", ["digest=nope", "digest=%3Cscript%3E", "digest=" + "x" * 5000])
def test_a_subscribe_link_naming_no_digest_offers_them_all(client: FlaskClient, query: str) -> None:
    response = client.get(f"/subscribe?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert checked(html) == {"weekly", "daily"} and "<script>" not in html
