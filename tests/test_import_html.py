"""The HTML page importer's rules, one at a time: hidden content, lazy images, the
base URL, metadata precedence, date and title fallbacks, structure, several
articles on one page. The corpus test measures the whole; these pin each rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from syndicate import articles
from syndicate.core.db import transaction
from syndicate.core.errors import ImportFailure
from syndicate.core.sanitize import sanitize_html
from syndicate.intake.importers import import_paths
from syndicate.intake.importers.html import parse_html_page
from syndicate.intake.importers.metadata import clean_byline, strip_site_name
from syndicate.service.context import App

LONG = (
    "The council met on Tuesday to discuss the new bus timetable for the winter, and "
    "members asked the operator to keep the late services on the river line running. "
)
LONG2 = (
    "Passengers who work night shifts at the hospital wrote to the council, saying the "
    "last bus of the evening is the only way home for many of them. "
)


def page(body: str, head: str = "", *, title: str = "Bus timetable changes") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title} | City News</title>"
        f'<meta property="og:site_name" content="City News">{head}</head><body>'
        f'<nav><a href="/">Home</a><a href="/news/">News</a></nav>{body}'
        "<footer>© City News</footer></body></html>"
    )


def article(inner: str, head: str = "", **kwargs: str) -> str:
    return page(f"<article><h1>Bus timetable changes</h1>{inner}</article>", head, **kwargs)


def body_of(html: str, source_url: str | None = "https://news.example.com/a/b/") -> str:
    parsed = parse_html_page(html, source_url)
    return sanitize_html(parsed.body_html, base_url="https://operator.example/")


def root_of(html: str, source_url: str | None = "https://news.example.com/a/b/"):
    return lxml.html.fragment_fromstring(body_of(html, source_url), create_parent="div")


# --- hidden content -------------------------------------------------------------------


@pytest.mark.parametrize(
    "hidden",
    [
        '<p style="display: none">SECRET words</p>',
        '<div style="color: red;visibility:hidden"><p>SECRET words</p></div>',
        "<p hidden>SECRET words</p>",
        '<p aria-hidden="true">SECRET words</p>',
        '<p>Visible start <span style="DISPLAY:NONE">SECRET</span> visible end.</p>',
    ],
)
def test_hidden_content_is_dropped_before_the_style_is_stripped(hidden: str) -> None:
    html = body_of(article(f"<p>{LONG}</p>{hidden}<p>{LONG2}</p>"))
    assert "SECRET" not in html
    assert "The council met" in html and "Passengers who work" in html


def test_hidden_content_stays_hidden_through_the_whole_import(app: App, tmp_path: Path) -> None:
    path = tmp_path / "hidden.html"
    path.write_text(
        article(
            f'<p>{LONG}</p><div style="display:none">Paywall SECRET text.</div>',
            '<link rel="canonical" href="https://news.example.com/bus/">',
        ),
        encoding="utf-8",
    )
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert report.ok, report.to_dict()
    with transaction(app.engine) as conn:
        stored = articles.find(conn, report.outcomes[0].slug or "")
    assert stored is not None
    assert "SECRET" not in stored.content_html and "council met" in stored.content_text


# --- lazy images ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        ('<img src="data:image/gif;base64,R0lGOD" data-src="/i/real.jpg" alt="x">', "real.jpg"),
        ('<img data-lazy-src="/i/real.jpg" alt="x">', "real.jpg"),
        ('<img data-srcset="/i/small.jpg 400w, /i/real.jpg 1600w" alt="x">', "real.jpg"),
        (
            '<img src="/i/placeholder.png" srcset="/i/real.jpg 2x, /i/small.jpg 1x" alt="x">',
            "real.jpg",
        ),
        (
            '<picture><source srcset="/i/real.jpg 1200w"><img src="data:," alt="x"></picture>',
            "real.jpg",
        ),
        (
            '<img class="lazy" src="data:image/gif;base64,R0lGOD" alt="x">'
            '<noscript><img src="/i/real.jpg" alt="x"></noscript>',
            "real.jpg",
        ),
    ],
)
def test_lazy_images_get_their_real_src(img: str, expected: str) -> None:
    root = root_of(
        article(
            f"<p>{LONG}</p><figure>{img}<figcaption>The depot.</figcaption></figure><p>{LONG}</p>"
        )
    )
    sources = root.xpath("//img/@src")
    assert sources == [f"https://news.example.com/i/{expected}"]
    assert root.xpath("//figure/figcaption/text()") == ["The depot."]


def test_an_image_without_any_real_source_is_dropped() -> None:
    root = root_of(article(f'<p>{LONG}</p><img src="data:image/gif;base64,R0lGOD" alt="x">'))
    assert root.xpath("//img") == []


# --- lead image -----------------------------------------------------------------------


def test_a_lead_image_outside_the_body_is_kept_when_the_metadata_names_it() -> None:
    html = page(
        '<div class="hero"><figure><img src="/media/hero.jpg" alt="Buses">'
        "<figcaption>Buses at the depot.</figcaption></figure></div>"
        f"<article><h1>Bus timetable changes</h1><p>{LONG}</p><p>{LONG}</p></article>",
        '<meta property="og:image" content="/media/hero.jpg">',
    )
    parsed = parse_html_page(html, "https://news.example.com/a/b/")
    assert parsed.image_url == "https://news.example.com/media/hero.jpg"
    root = lxml.html.fragment_fromstring(parsed.body_html, create_parent="div")
    first = root[0]
    assert first.tag == "figure"
    assert first.xpath("img/@src") == ["https://news.example.com/media/hero.jpg"]
    assert first.xpath("figcaption/text()") == ["Buses at the depot."]


def test_an_image_the_page_does_not_show_is_metadata_only() -> None:
    html = article(f"<p>{LONG}</p>", '<meta property="og:image" content="/social-card.png">')
    parsed = parse_html_page(html, "https://news.example.com/a/b/")
    assert parsed.image_url == "https://news.example.com/social-card.png"
    assert "social-card" not in parsed.body_html


# --- base URL -------------------------------------------------------------------------

SOURCE = "https://fetched.example.com/f/"
LINKED = f'<p>{LONG} See <a href="map/">the map</a>.</p><img src="/img/x.jpg" alt="x">'


@pytest.mark.parametrize(
    ("head", "source", "link", "image"),
    [
        (
            '<base href="https://cdn.example.net/story/">'
            '<link rel="canonical" href="https://canon.example.org/s/">',
            "https://fetched.example.com/f/",
            "https://cdn.example.net/story/map/",
            "https://cdn.example.net/img/x.jpg",
        ),
        (
            '<link rel="canonical" href="https://canon.example.org/s/">'
            '<meta property="og:url" content="https://og.example.org/o/">',
            "https://fetched.example.com/f/",
            "https://canon.example.org/s/map/",
            "https://canon.example.org/img/x.jpg",
        ),
        (
            '<meta property="og:url" content="https://og.example.org/o/">',
            "https://fetched.example.com/f/",
            "https://og.example.org/o/map/",
            "https://og.example.org/img/x.jpg",
        ),
        ("", "https://fetched.example.com/f/", "https://fetched.example.com/f/map/",
         "https://fetched.example.com/img/x.jpg"),
        ('<base href="/deep/">', "https://fetched.example.com/f/",
         "https://fetched.example.com/deep/map/", "https://fetched.example.com/img/x.jpg"),
    ],
)  # fmt: skip
def test_urls_resolve_against_the_pages_own_address(
    head: str, source: str, link: str, image: str
) -> None:
    parsed = parse_html_page(article(LINKED, head), source)
    root = lxml.html.fragment_fromstring(parsed.body_html, create_parent="div")
    assert root.xpath("//a/@href") == [link]
    assert root.xpath("//img/@src") == [image]
    assert not [w for w in parsed.warnings if "site.url" in w]


def test_without_any_address_site_url_is_the_base_with_a_warning(app: App, tmp_path: Path) -> None:
    path = tmp_path / "saved.html"
    path.write_text(article(LINKED), encoding="utf-8")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (outcome,) = report.outcomes
    assert outcome.status == "imported"
    assert any("relative links resolve against site.url" in w for w in outcome.warnings)
    with transaction(app.engine) as conn:
        stored = articles.find(conn, outcome.slug or "")
    assert stored is not None
    assert 'href="https://news.example.org/map/"' in stored.content_html  # site.url


# --- metadata precedence --------------------------------------------------------------

LD = '<script type="application/ld+json">{}</script>'


def ld(**fields: object) -> str:
    return LD.format(json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                                 **fields}))  # fmt: skip


@pytest.mark.parametrize(
    ("head", "body_heading", "expected"),
    [
        ('<meta property="og:title" content="From OG">' + ld(headline="From LD"), "H", "From OG"),
        (ld(headline="From LD"), "From H1", "From LD"),
        ("", "From H1", "From H1"),
        ('<meta property="og:title" content="Story title | City News">', "H", "Story title"),
    ],
)
def test_title_precedence(head: str, body_heading: str, expected: str) -> None:
    html = page(f"<article><h1>{body_heading}</h1><p>{LONG}</p></article>", head)
    assert parse_html_page(html, None).title == expected


def test_title_from_head_title_without_the_site_name() -> None:
    html = page(f"<div><p>{LONG}</p></div>", title="Night buses return")
    assert parse_html_page(html, None).title == "Night buses return"
    assert strip_site_name("City News – Night buses", "City News") == "Night buses"
    assert strip_site_name("Q&A - what changes - Metro", None) == "Q&A - what changes"


def test_the_site_heading_is_never_the_title() -> None:
    html = (
        "<html><head><title>City News</title>"
        '<meta property="og:site_name" content="City News"></head><body>'
        "<header><h1>City News</h1></header>"
        f"<article><h2>Bridge reopens on Monday</h2><p>{LONG}</p></article></body></html>"
    )
    parsed = parse_html_page(html, None)
    assert parsed.title == "Bridge reopens on Monday"
    assert any("first heading" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("head", "byline_html", "expected"),
    [
        (ld(author={"@type": "Person", "name": "Anna Berg"}) + '<meta name="author" content="M">',
         '<a rel="author" href="/a/">R</a>', "Anna Berg"),
        (ld(author=[{"name": "Anna Berg"}, {"name": "Ivan Sirko"}]), "", "Anna Berg, Ivan Sirko"),
        ('<meta name="author" content="Meta Name">', '<a rel="author" href="/a/">R</a>',
         "Meta Name"),
        ('<meta name="author" content="@cityhandle">', '<a rel="author" href="/a/">Rel Name</a>',
         "Rel Name"),
        ("", '<span itemprop="author">Item Prop</span>', "Item Prop"),
        ("", '<p class="byline">By Class Name · <time datetime="2026-01-01">1 Jan</time></p>',
         "Class Name"),
        ('<meta name="author" content="https://facebook.com/someone">', "", None),
    ],
)  # fmt: skip
def test_byline_precedence(head: str, byline_html: str, expected: str | None) -> None:
    html = page(f"<article><h1>T</h1>{byline_html}<p>{LONG}</p></article>", head)
    assert parse_html_page(html, None).author_name == expected


def test_bylines_are_names_not_handles() -> None:
    assert clean_byline("By Anna Berg | 3 min read") == "Anna Berg"
    assert clean_byline("Від Оксана Литвиненко") == "Оксана Литвиненко"
    for handle in ("@anna", "twitter.com/anna", "https://x.com/anna"):
        assert clean_byline(handle) is None


def test_date_precedence_and_other_metadata() -> None:
    head = (
        ld(datePublished="2026-03-01T10:00:00Z", dateModified="2026-03-02T10:00:00Z",
           keywords=["Buses", "Winter"], description="LD summary")
        + '<meta property="article:published_time" content="2026-02-01T10:00:00Z">'
        + '<meta property="og:description" content="OG summary">'
        + '<link rel="canonical" href="https://news.example.com/bus/">'
    )  # fmt: skip
    inner = f'<time datetime="2026-01-01">1 Jan</time><p>{LONG}</p>'
    parsed = parse_html_page(article(inner, head), None)
    assert parsed.published == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert parsed.updated == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert parsed.summary == "OG summary"
    assert parsed.tags == ("buses", "winter")
    assert parsed.canonical_url == "https://news.example.com/bus/"
    relative = parse_html_page(article(inner, '<link rel="canonical" href="/bus/">'), SOURCE)
    assert relative.canonical_url == "https://fetched.example.com/bus/"
    assert (
        parse_html_page(article(inner, '<link rel="canonical" href="/x/">'), None).canonical_url
        is None
    )
    meta_only = parse_html_page(
        article(inner, '<meta property="article:published_time" content="2026-02-01T10:00:00Z">'),
        None,
    )
    assert meta_only.published == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    assert parse_html_page(article(inner), None).published == datetime(2026, 1, 1, tzinfo=UTC)


def test_an_unreadable_date_is_a_warning_and_the_next_source_is_used() -> None:
    head = ld(datePublished="next Tuesday-ish") + (
        '<meta property="article:published_time" content="2026-02-01T10:00:00Z">'
    )
    parsed = parse_html_page(article(f"<p>{LONG}</p>", head), None)
    assert parsed.published == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    assert any("JSON-LD datePublished" in w and "next Tuesday-ish" in w for w in parsed.warnings)


def test_a_page_with_only_unreadable_dates_imports_with_the_file_time(
    app: App, tmp_path: Path
) -> None:
    path = tmp_path / "bad-date.html"
    path.write_text(
        '<html><head><meta property="article:published_time" content="soon">'
        "</head><body><h1>T</h1><p>x</p></body></html>",
        encoding="utf-8",
    )
    (outcome,) = import_paths(app.engine, app.settings, clock=app.clock, paths=[path]).outcomes
    assert outcome.status == "imported"
    assert any("'soon' is not a date" in w for w in outcome.warnings)
    assert any("modification time" in w for w in outcome.warnings)


def test_no_title_takes_the_file_name_with_a_warning(app: App, tmp_path: Path) -> None:
    path = tmp_path / "no-title_here.html"
    path.write_text("<p>No heading anywhere, just a sentence.</p>", encoding="utf-8")
    (outcome,) = import_paths(app.engine, app.settings, clock=app.clock, paths=[path]).outcomes
    assert outcome.status == "imported"
    assert any("used the name 'no title here'" in w for w in outcome.warnings)
    with transaction(app.engine) as conn:
        stored = articles.find(conn, outcome.slug or "")
    assert stored is not None and stored.title == "no title here"


# --- structure ------------------------------------------------------------------------


def test_structure_is_kept_in_order() -> None:
    inner = (
        f"<p>{LONG} It has <em>emphasis</em>, <strong>strength</strong> and "
        '<a href="https://x.example/doc">a link</a>.</p>'
        "<h2>Section two</h2><ol><li>First step</li><li>Second step</li></ol>"
        "<ul><li>A point</li></ul>"
        "<blockquote><p>A quoted sentence from the meeting.</p></blockquote>"
        '<pre><code class="language-python">print("hi")\nx = 1</code></pre>'
        f"<p>Call <code>run()</code> then wait. {LONG}</p>"
        "<table><thead><tr><th>Line</th><th>Trips</th></tr></thead>"
        "<tbody><tr><td>S1</td><td>12</td></tr></tbody></table>"
        '<figure><img src="https://x.example/i.jpg" alt="A bus"><figcaption>The new bus.'
        "</figcaption></figure><h3>Section three</h3><p>The end of the story.</p>"
    )
    root = root_of(article(inner))
    order = [e.tag for e in root.iterchildren()]
    assert order == ["p", "h2", "ol", "ul", "blockquote", "pre", "p", "table", "figure", "h3",
                     "p"]  # fmt: skip
    assert root.xpath("//em/text()") == ["emphasis"]
    assert root.xpath("//strong/text()") == ["strength"]
    assert root.xpath("//a/@href") == ["https://x.example/doc"]
    assert root.xpath("//pre/code/@class") == ["language-python"]
    assert root.xpath("//pre/code/text()") == ['print("hi")\nx = 1']
    assert root.xpath("//p/code/text()") == ["run()"]
    assert root.xpath("//th/text()") == ["Line", "Trips"]
    assert root.xpath("//figure/figcaption/text()") == ["The new bus."]
    assert not root.xpath("//h1")  # the title is not repeated in the body


def test_chrome_around_and_inside_the_article_is_dropped() -> None:
    inner = (
        f"<p>{LONG}</p>"
        '<div class="share-buttons"><a href="https://twitter.com/share">Tweet CHROME</a></div>'
        f'<p class="follow-us">Follow our channel on Telegram CHROME</p><p>{LONG2}</p>'
        '<div class="newsletter"><h3>Subscribe CHROME</h3><form><input></form></div>'
        '<section class="related-posts"><h3>Related CHROME</h3><ul><li>x</li></ul></section>'
    )
    html = page(
        '<div class="cookie-banner">We use cookies CHROME <button>OK</button></div>'
        f"<article><h1>Bus timetable changes</h1>{inner}</article>"
        '<section id="comments"><h2>2 comments</h2><p>Nice CHROME</p></section>'
        '<aside class="ad">Buy now CHROME</aside>'
    )
    html_out = body_of(html)
    assert "CHROME" not in html_out and "Home" not in html_out and "©" not in html_out
    assert "The council met" in html_out and "Passengers who work" in html_out


def test_teasers_and_following_articles_are_not_the_article() -> None:
    teaser = '<article class="card"><h2><a href="/x/">Other story</a></h2><p>Teaser.</p></article>'
    other = (
        "<article><h1>Next story: snow on the pass</h1>"
        + "<p>Snow closed the mountain road overnight and ploughs are out. </p>" * 8
        + "</article>"
    )
    html = page(
        teaser * 3 + f"<article><h1>Bus timetable changes</h1>{('<p>' + LONG + '</p>') * 4}"
        "</article>" + other,
        '<meta property="og:title" content="Bus timetable changes">',
    )
    html_out = body_of(html)
    assert "council met" in html_out
    assert "Teaser" not in html_out and "Snow" not in html_out


def test_a_fragment_without_chrome_is_kept_whole() -> None:
    parsed = parse_html_page("<h1>Bridge closed</h1><p>From <time>1 Sep</time> it is shut.</p>",
                             None)  # fmt: skip
    assert parsed.title == "Bridge closed"
    assert parsed.body_html == "<p>From 1 Sep it is shut.</p>"


def test_loose_text_between_blocks_is_kept() -> None:
    """Blogger writes posts as text and <br> in one div; text after an image block
    was lost by the engine."""
    post = (
        f'<div class="post-body">{LONG}<br><br>{LONG2}<br>'
        '<div class="separator"><a href="/big.jpg"><img src="/small.jpg" alt="x"></a></div>'
        "AFTER the image, the recipe goes on with the last steps of the dough.<br>"
        '<div style="clear: both;"></div></div>'
    )
    html_out = body_of(page(f"<h3>Bus timetable changes</h3>{post}"))
    assert "AFTER the image" in html_out and "The council met" in html_out


def test_a_layout_table_is_not_a_data_table() -> None:
    layout = (
        '<table><tr><td class="menu"><a href="/">Home</a><br><a href="/n/">News</a><br>'
        "<b>Weather</b><br>Cloudy and cold MENU</td>"
        f"<td><h1>Bus timetable changes</h1><p>{LONG}</p><p>{LONG2}</p></td>"
        '<td class="right"><b>Most read</b><br>Road closed MENU<br>Market moves MENU</td>'
        "</tr></table>"
    )
    html_out = body_of(page(layout))
    assert "MENU" not in html_out and "<table" not in html_out
    assert "The council met" in html_out and "Passengers who work" in html_out


@pytest.mark.parametrize(
    "table",
    [
        "<table><tr><th>Line</th><th>Trips</th></tr><tr><td>S1</td><td>12</td></tr></table>",
        "<table><tr><th><p>Line</p></th><th><p>Trips</p></th></tr>"
        "<tr><td><p>S1</p></td><td><p>12</p></td></tr></table>",
    ],
)
def test_a_data_table_stays_a_table(table: str) -> None:
    root = root_of(article(f"<p>{LONG}</p>{table}<p>{LONG2}</p>"))
    assert [" ".join(td.itertext()).strip() for td in root.xpath("//table//td")] == ["S1", "12"]


def test_heading_anchor_symbols_are_not_part_of_the_title() -> None:
    html = (
        "<html><head><title>Retries — docs</title></head><body><div role='main'>"
        '<h1>Retrying deliveries<a class="headerlink" href="#r">¶</a></h1>'
        f"<p>{LONG}</p></div></body></html>"
    )
    parsed = parse_html_page(html, None)
    assert parsed.title == "Retrying deliveries"
    assert "Retrying" not in parsed.body_html  # the title heading is not repeated


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        (ld(author={"@type": "NewsMediaOrganization", "name": "City News"}), "", None),
        ('<meta name="author" content="City News">', "", None),
        ("", "<p><i>by <a href='/a/'>Tomas Kral</a></i></p>", "Tomas Kral"),
        ("", "<p>By the end of the year, buses run later.</p>", None),
    ],
)
def test_publishers_and_sentences_are_not_bylines(
    head: str, body: str, expected: str | None
) -> None:
    html = page(f"<article><h1>T</h1>{body}<p>{LONG}</p></article>", head)
    assert parse_html_page(html, None).author_name == expected


@pytest.mark.parametrize(
    "text",
    [
        "<html><body></body></html>",
        "<html><body><!-- only a comment --></body></html>",
        "<div>" * 3000 + "deep" + "</div>" * 3000,
        "<html><head><script type='application/ld+json'>{broken</script></head>"
        "<body><h1>T</h1><p>x</p></body></html>",
        "<p>\x00\x01 control <img src='javascript:alert(1)' srcset=',,, 9x'></p>",
        '<html><head><link rel=canonical href="http://[oops/"><base href="http://[b/">'
        '<meta property="og:image" content="http://[x/i.jpg"></head><body><h1>T</h1>'
        '<p>Text <a href="http://[z/">x</a><img src="http://[q/i.jpg"></p></body></html>',
    ],
)
def test_odd_pages_parse_or_fail_clearly(text: str) -> None:
    try:
        parsed = parse_html_page(text, "https://news.example.com/odd/")
    except ImportFailure as failure:
        assert failure.message.startswith("https://news.example.com/odd/")
    else:
        assert parsed.title


def test_a_site_suffix_goes_even_when_the_page_does_not_name_its_site() -> None:
    html = (
        '<html><head><meta property="og:title" content="Bridge reopens | Metro Daily">'
        "</head><body><article><h1>Bridge reopens</h1>"
        f"<p>{LONG}</p></article></body></html>"
    )
    assert parse_html_page(html, None).title == "Bridge reopens"
    kept = html.replace("<h1>Bridge reopens</h1>", "<h1>Bridge reopens on Monday</h1>")
    assert parse_html_page(kept, None).title == "Bridge reopens | Metro Daily"


@pytest.mark.parametrize(
    "wrapper",
    ['<div id="app" style="visibility:hidden">', '<div id="__next" aria-hidden="true">'],
)
def test_a_page_hidden_whole_until_a_script_runs_is_still_read(wrapper: str) -> None:
    html = page(
        f"{wrapper}<article><h1>Bus timetable changes</h1><p>{LONG}</p>"
        f"<p hidden>SECRET words</p><p>{LONG2}</p></article></div>"
        '<div role="dialog"><p>Accept our cookies?</p></div>'
    )
    html_out = body_of(html)
    assert "The council met" in html_out and "Passengers who work" in html_out
    assert "SECRET" not in html_out


def test_a_body_classed_like_boilerplate_is_still_the_body() -> None:
    side = "".join(
        f"<li><a href='/s{i}'>Sidebar story number {i} about the region</a></li>"
        for i in range(120)
    )
    paragraphs = "".join(f"<p>{text}</p>" for text in (LONG, LONG2, LONG, LONG2))
    html = page(
        f'<div class="layout"><div class="article-body has-related with-comments">'
        f"<h2>Bus timetable changes</h2>{paragraphs}</div>"
        f'<div class="sidebar"><ul>{side}</ul></div></div>'
    )
    html_out = body_of(html)
    assert "The council met" in html_out and "Passengers who work" in html_out


@pytest.mark.parametrize(
    "logo",
    [
        '<header class="site"><a href="/"><img src="/logo.png" alt="City News"></a></header>',
        '<div class="brand"><a href="https://news.example.com/"><img src="/logo.png" alt="C"></a></div>',
        '<div class="top"><img src="/logo.png" alt="C" width="120" height="40"></div>',
    ],
)
def test_a_site_logo_named_by_og_image_is_not_a_lead_image(logo: str) -> None:
    html = page(
        f"{logo}<article><h1>Bus timetable changes</h1><p>{LONG}</p><p>{LONG2}</p></article>",
        '<meta property="og:image" content="/logo.png">',
    )
    parsed = parse_html_page(html, "https://news.example.com/a/b/")
    assert parsed.image_url == "https://news.example.com/logo.png"  # still the feed's image
    assert "logo" not in parsed.body_html


def test_a_gallery_caption_follows_its_last_image_only() -> None:
    gallery = (
        '<figure class="gallery"><img src="/g/1.jpg" alt="1"><img src="/g/2.jpg" alt="2">'
        "<figcaption>Two views of the depot.</figcaption></figure>"
    )
    root = root_of(article(f"<p>{LONG}</p>{gallery}<p>{LONG2}</p>"))
    assert root.xpath("//img/@src") == [
        "https://news.example.com/g/1.jpg",
        "https://news.example.com/g/2.jpg",
    ]
    assert root.xpath("//figcaption/text()") == ["Two views of the depot."]
