"""Feed sources against a loopback server serving WordPress, Ghost, Hugo, Substack,
Medium, Jekyll (Atom) and micro.blog (JSON Feed) shaped feeds: what an operator sees stored."""

from __future__ import annotations

from collections.abc import Callable

from pytest_httpserver import HTTPServer
from sqlalchemy import select

from syndicate import articles
from syndicate.core.db import source_entries
from syndicate.intake.sources import pull_source
from syndicate.service.context import App
from tests.support.sources import serve, source_config, stored

MakeApp = Callable[[str], App]


def test_wordpress_full_content_keeps_structure_authors_tags_and_absolute_urls(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/wp/feed/", "wordpress-full.xml")
    app = make_app(source_config(server, "harbour", "/wp/feed/", tags=["harbour"]))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="harbour")
    assert result.state == "ok", result.detail
    assert result.counts["imported"] == 2 and result.counts["pages"] == 0
    by_title = stored(app)
    ferry = by_title["The ferry timetable changes on Monday"]
    assert ferry.author_name == "Mira Holm"
    assert set(ferry.tags) == {"transport", "ferries", "harbour"}
    assert ferry.published_at.isoformat() == "2026-03-03T08:12:38+00:00"
    html = ferry.content_html
    for piece in ("<h2", "<ul", "<li>Weekday departures", "<figure", "<figcaption", "<blockquote"):
        assert piece in html
    base = server.url_for("/")
    # relative URLs resolve against the feed's address, not the operator's site
    assert f'src="{base}wp/wp-content/uploads/2026/03/ferry-1024x576.jpg"' in html
    assert f'href="{base}wp/timetable/"' in html
    lighthouse = by_title["Lighthouse open day draws a record crowd"]
    assert "<pre" in lighthouse.content_html and "Opening hours" in lighthouse.content_text
    assert "the lamp was lit" in lighthouse.content_text


def test_summary_only_wordpress_fetches_each_page_with_a_named_user_agent(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/gazette/feed/", "wordpress-summary.xml")
    serve(server, "/gazette/2026/03/02/bridge-repairs/", "page-bridge.html")
    serve(server, "/gazette/2026/02/27/choir-final/", "page-choir.html")
    app = make_app(source_config(server, "gazette", "/gazette/feed/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="gazette")
    assert result.state == "ok", result.detail
    assert result.counts == {**result.counts, "imported": 2, "pages": 2}
    bridge = stored(app)["Bridge repairs finish early"]
    assert "Traffic lights on the approach roads" in bridge.content_text
    assert "<h2>Cost</h2>" in bridge.content_html
    assert "Home" not in bridge.content_text  # the page's navigation is not the article
    image = server.url_for("/gazette/2026/03/02/bridge-repairs/images/bridge.jpg")
    assert f'src="{image}"' in bridge.content_html
    assert bridge.author_name == "Ana Lind" and bridge.tags == ("roads",)
    agents = {request.headers.get("User-Agent") for request, _ in server.log}
    assert agents == {"syndicate/0.1.0 (+https://news.example.org/; Test News)"}


def test_full_text_never_keeps_the_summary_and_fetches_no_page(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/gazette/feed/", "wordpress-summary.xml")
    app = make_app(source_config(server, "gazette", "/gazette/feed/", full_text="never"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="gazette")
    assert result.counts["imported"] == 2 and result.counts["pages"] == 0
    assert [request.path for request, _ in server.log] == ["/gazette/feed/"]
    bridge = stored(app)["Bridge repairs finish early"]
    assert "three weeks ahead of schedule" in bridge.content_text
    assert "Traffic lights" not in bridge.content_text


def test_ghost_feed_full_content_with_table_and_image(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.counts["imported"] == 2 and result.counts["pages"] == 0
    swifts = stored(app)["The swifts are back"]
    assert "<table" in swifts.content_html and "2 March" in swifts.content_text
    assert swifts.author_name == "Lena Ek" and set(swifts.tags) == {"birds", "spring"}
    assert swifts.image_url == server.url_for("/ghost/content/images/2026/03/swift.jpg")
    assert swifts.summary.startswith("Early this year")
    assert "gulls" in stored(app)["Fog week"].content_text


def test_hugo_summary_feed_takes_the_full_page_text(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/hugo/posts/index.xml", "hugo.xml")
    serve(server, "/hugo/posts/sharpening/", "page-sharpening.html")
    serve(server, "/hugo/posts/bench/", "page-bench.html")
    app = make_app(source_config(server, "hugo", "/hugo/posts/index.xml"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="hugo")
    assert result.state == "ok", result.detail
    by_title = stored(app)
    sharpening = by_title["Sharpening a plane iron"]
    assert "<ol>" in sharpening.content_html and "Strop twenty strokes" in sharpening.content_text
    assert "6000 grit" in sharpening.content_text
    # "+0100" dates are stored in UTC
    assert sharpening.published_at.isoformat() == "2026-03-05T17:00:00+00:00"
    assert "wedged through mortises" in by_title["A bench from one board"].content_text


def test_substack_full_posts_stay_and_a_truncated_teaser_is_completed(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/substack/feed", "substack.xml")
    serve(server, "/substack/p/pension-question", "page-pension.html")
    app = make_app(source_config(server, "ledger", "/substack/feed"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ledger")
    assert result.counts["imported"] == 2 and result.counts["pages"] == 1
    fetched = [request.path for request, _ in server.log]
    assert fetched == ["/substack/feed", "/substack/p/pension-question"]
    bakery = stored(app)["Why the bakery raised its prices"]
    assert bakery.author_name == "Ola Strand"
    assert "<figcaption" in bakery.content_html and "a fifth of her costs" in bakery.content_text
    assert bakery.image_url == server.url_for("/substack/img/bakery.jpeg")
    pension = stored(app)["Paid subscribers: the pension question"]
    assert "three biggest employers" in pension.content_text


def test_medium_feed_keeps_categories_and_emphasis(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/medium/feed/@priya", "medium.xml")
    app = make_app(source_config(server, "medium", "/medium/feed/@priya"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="medium")
    assert result.counts["imported"] == 1
    market = stored(app)["What I learned running a night market"]
    assert set(market.tags) == {"community", "small-business"}
    assert "<strong>Lesson one:</strong>" in market.content_html
    assert "<em>Lesson two:</em>" in market.content_html
    assert market.updated_at.isoformat().startswith("2026-03-07T09:00:00")


def test_jekyll_atom_resolves_against_xml_base_and_strips_markup_from_titles(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/jekyll/feed.xml", "jekyll-atom.xml")
    app = make_app(source_config(server, "tides", "/jekyll/feed.xml"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="tides")
    assert result.counts["imported"] == 1, result.detail
    tides = stored(app)["Spring tides and the new moon"]
    assert f'src="{server.url_for("/jekyll/2026/03/08/tides.png")}"' in tides.content_html
    assert f'href="{server.url_for("/jekyll/about/")}"' in tides.content_html
    assert tides.author_name == "Sam Rowe" and tides.tags == ("tides",)


def test_json_feed_items_with_and_without_titles(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/micro/feed.json", "microblog.json")
    app = make_app(source_config(server, "micro", "/micro/feed.json"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="micro")
    assert result.counts["imported"] == 2, result.detail
    by_title = stored(app)
    heron = next(a for title, a in by_title.items() if title.startswith("A heron on the canal"))
    assert heron.author_name == "Kit Moss" and heron.tags == ("birds",)
    assert f'src="{server.url_for("/micro/2026/03/09/uploads/heron.jpg")}"' in heron.content_html
    bread = by_title["Sourdough, week three"]
    assert bread.content_html.count("<p>") == 2
    assert bread.updated_at.isoformat() == "2026-03-08T20:00:00+00:00"


def test_identity_is_stable_changes_update_and_departed_entries_stay(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/"))
    pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    before = stored(app)
    again = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert again.counts["unchanged"] == 2 and again.counts["imported"] == 0
    server.clear()
    # The next feed: "The swifts are back" was edited, "Fog week" left the window.
    from tests.support.sources import fixture_text

    edited = fixture_text(server, "ghost.xml")
    edited = edited.replace("a full week before", "eight days before")
    start = edited.index("<item><title><![CDATA[Fog week")
    edited = edited[:start] + edited[edited.index("</item>", start) + len("</item>") :]
    server.expect_request("/ghost/rss/").respond_with_data(
        edited, content_type="application/rss+xml"
    )
    third = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert third.counts["updated"] == 1 and third.counts["imported"] == 0
    after = stored(app)
    swifts = after["The swifts are back"]
    assert swifts.uid == before["The swifts are back"].uid  # the id never changes
    assert swifts.slug == before["The swifts are back"].slug
    assert "eight days before" in swifts.content_text
    assert "Fog week" in after  # left the feed, kept in the store
    with app.engine.connect() as conn:
        rows = conn.execute(select(source_entries.c.guid, source_entries.c.article_id)).all()
    assert {guid for guid, _ in rows} == {"67c5a1f2e4b0a1001c3e9d11", "67c39b1ee4b0a1001c3e9cf0"}


def test_an_article_the_operator_removed_is_not_brought_back(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/"))
    pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    with app.engine.begin() as conn:
        fog = articles.find(conn, "fog-week")
        assert fog is not None
        articles.remove(conn, fog.id)
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert "Fog week" not in stored(app)
    assert [e.status for e in result.entries if e.title == "Fog week"] == ["skipped"]


def test_since_ignores_older_entries(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/", since="2026-03-03"))
    pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert set(stored(app)) == {"The swifts are back"}


def test_page_budget_defers_the_rest_to_the_next_pull(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/gazette/feed/", "wordpress-summary.xml")
    serve(server, "/gazette/2026/03/02/bridge-repairs/", "page-bridge.html")
    serve(server, "/gazette/2026/02/27/choir-final/", "page-choir.html")
    app = make_app(source_config(server, "gazette", "/gazette/feed/", max_full_text=1))
    first = pull_source(app.engine, app.settings, clock=app.clock, name="gazette")
    assert first.counts["pages"] == 1 and first.counts["imported"] == 2
    assert "Traffic lights" not in stored(app)["Bridge repairs finish early"].content_text
    second = pull_source(
        app.engine, app.settings, clock=app.clock, name="gazette"
    )  # the feed is the same; the missing page is fetched
    assert second.counts["pages"] == 1 and second.counts["updated"] == 1
    assert "Traffic lights" in stored(app)["Bridge repairs finish early"].content_text
    third = pull_source(app.engine, app.settings, clock=app.clock, name="gazette")
    assert third.counts["pages"] == 0 and third.counts["unchanged"] == 2


def test_hostile_entry_content_is_sanitised(server: HTTPServer, make_app: MakeApp) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        "<item><title>Hostile \x0b entry</title><link>https://evil.example/p</link>"
        "<guid>https://evil.example/p</guid><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>"
        "<description><![CDATA[<p onclick='steal()'>Hello <script>steal()</script>"
        "<a href='javascript:steal()'>link</a> <iframe src='https://evil.example/'></iframe>"
        "<img src='x.png' onerror='steal()'> world, with enough words to be a body.</p>]]>"
        "</description></item></channel></rss>"
    )
    server.expect_request("/rss").respond_with_data(feed, content_type="application/rss+xml")
    app = make_app(source_config(server, "evil", "/rss", full_text="never"))
    assert (
        pull_source(app.engine, app.settings, clock=app.clock, name="evil").counts["imported"] == 1
    )
    [article] = stored(app).values()
    html = article.content_html
    for bad in ("script", "onclick", "onerror", "javascript:", "<iframe"):
        assert bad not in html
    assert 'src="https://evil.example/x.png"' in html
    assert article.title == "Hostile entry"


def test_untitled_and_overlong_titles_are_made_from_the_entry(
    server: HTTPServer, make_app: MakeApp
) -> None:
    long_title = "word " * 100
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        "<item><title>***</title><guid>https://m.example/1</guid>"
        "<description>Caught the early train and the sunrise over the river.</description></item>"
        f"<item><title>{long_title}</title><guid>https://m.example/2</guid>"
        "<description>Body of the long one.</description></item>"
        "</channel></rss>"
    )
    server.expect_request("/rss").respond_with_data(feed, content_type="application/rss+xml")
    app = make_app(source_config(server, "m", "/rss", full_text="never"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="m")
    assert result.counts["imported"] == 2, result.entries
    titles = sorted(stored(app))
    assert titles[0] == "Caught the early train and the sunrise over the river."
    assert len(titles[1]) <= 300 and titles[1].endswith("\u2026")


def test_a_link_only_entry_links_to_the_original(server: HTTPServer, make_app: MakeApp) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>links</title>'
        "<item><title>A good read on tides</title><link>https://tides.example/read</link>"
        "</item></channel></rss>"
    )
    server.expect_request("/rss").respond_with_data(feed, content_type="application/rss+xml")
    app = make_app(source_config(server, "links", "/rss", full_text="never"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="links")
    assert result.counts["imported"] == 1, result.entries
    article = stored(app)["A good read on tides"]
    assert '<a href="https://tides.example/read">A good read on tides</a>' in article.content_html
