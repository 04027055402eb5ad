"""CMS exports and site-generator folders through the real CLI: WordPress WXR, Ghost
JSON, a Substack folder, Hugo and Jekyll sites; then the feeds built from them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result

from syndicate.cli import main

EXPORTS = Path(__file__).parent / "exports"
WXR = EXPORTS / "wordpress" / "harbourlight.WordPress.2026-02-20.xml"
GHOST = EXPORTS / "ghost" / "the-long-table.ghost.2026-02-18-09-30-12.json"


@pytest.fixture
def config_extra() -> str:
    return '[[feeds]]\nname = "all"\npath = "all"\nformats = ["rss", "atom", "json"]\n'


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


def imported(config_file: Path, *paths: Path) -> dict:
    result = run(config_file, "import", "--json", *map(str, paths))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def show(config_file: Path, slug: str) -> dict:
    result = run(config_file, "articles", "show", "--json", slug)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def built_feed(config_file: Path) -> feedparser.FeedParserDict:
    result = run(config_file, "feeds", "build")
    assert result.exit_code == 0, result.output
    return feedparser.parse((config_file.parent / "feeds" / "all" / "atom.xml").read_bytes())


def by_status(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in report["files"]:
        found.setdefault(entry["status"], []).append(entry)
    return found


def test_wordpress_export_imports_published_posts_with_wordpress_paragraphs(
    config_file: Path,
) -> None:
    report = imported(config_file, WXR)
    assert report["counts"]["imported"] == 3
    assert report["counts"]["failed"] == 0
    notes = {e["path"].split(": ", 1)[1]: e["note"] for e in by_status(report)["skipped"]}
    assert notes == {
        "post 60 (Ideas for the summer festival)": "not published (a draft)",
        "post 62 (Members' newsletter archive)": "password-protected",
        "post 2 (Contact)": "a page, not a post",
        "post 44 (ferry)": "an attachment, not a post",
    }

    ferry = show(config_file, "winter-ferry-timetable")
    assert ferry["title"] == "The winter ferry timetable"
    assert ferry["author_name"] == "Tomasz Kowalczyk"  # display name, not the login
    assert ferry["author_email"] is None  # the WordPress account's address stays private
    assert ferry["published_at"].startswith("2026-01-12T08:30:00")  # wp:post_date_gmt
    assert ferry["tags"] == ["ferries", "harbour"]
    assert ferry["uid"] == "https://harbourlight.example.com/?p=41"  # the WordPress guid
    assert ferry["summary"] == "Winter hours for the island ferry."
    assert ferry["image_url"].endswith("/wp-content/uploads/2026/01/ferry.jpg")
    html = ferry["content_html"]
    # wpautop: a blank line is a paragraph, a single newline a <br>
    assert "<p>From Monday the ferry keeps its <strong>winter hours</strong>.<br>" in html
    assert "<p>The last boat back leaves the island at 18:40" in html
    assert "<ul>" in html and "<li>Sundays: four sailings</li>" in html
    assert "<figcaption>The ferry at the north pier</figcaption>" in html  # [caption]
    assert "[caption" not in html
    # a root-relative link resolves against the WordPress site, not site.url
    assert 'href="https://harbourlight.example.com/fares/"' in html

    wall = show(config_file, "harbour-wall-repairs")
    assert wall["author_name"] == "Mairead Quinn"
    assert wall["tags"] == ["harbour"]  # "Uncategorized" is WordPress's default, not a tag
    assert "<h2>What changes for boats</h2>" in wall["content_html"]
    assert "<p><p>" not in wall["content_html"]  # block content gets no second autop

    polish = show(config_file, "zegluga")
    assert polish["title"] == "Żegluga: a note in Polish"
    assert "(wcięcie zachowane)</pre>" in polish["content_html"]
    assert "<pre>07:10  wyspa\n18:40  powrót\n\n    (wcięcie" in polish["content_html"]

    feed = built_feed(config_file)
    titles = [entry.title for entry in feed.entries]
    assert titles == [
        "Żegluga: a note in Polish",
        "Harbour wall repairs begin",
        "The winter ferry timetable",
    ]
    ferry_entry = feed.entries[2]
    assert ferry_entry.id == "https://harbourlight.example.com/?p=41"
    assert ferry_entry.author == "Tomasz Kowalczyk"
    assert {t.term for t in ferry_entry.tags} == {"ferries", "harbour"}


def test_wordpress_reimport_of_a_newer_export_updates_in_place(
    config_file: Path, tmp_path: Path
) -> None:
    imported(config_file, WXR)
    newer = tmp_path / "export-later.xml"
    newer.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "The slipway stays open.", "The slipway closes on Fridays."
        ),
        encoding="utf-8",
    )
    report = imported(config_file, newer)
    assert report["counts"] | {} == report["counts"]
    assert report["counts"]["updated"] == 1 and report["counts"]["imported"] == 0
    assert report["counts"]["unchanged"] == 2
    assert "closes on Fridays" in show(config_file, "harbour-wall-repairs")["content_html"]


def test_ghost_export_imports_published_posts_with_tags_and_authors(config_file: Path) -> None:
    report = imported(config_file, GHOST)
    assert report["counts"]["imported"] == 2 and report["counts"]["failed"] == 0
    skipped = {e["path"].rsplit(" ", 1)[1]: e["note"] for e in by_status(report)["skipped"]}
    assert skipped == {
        "spring-menu": "not published (draft)",
        "about": "a page, not a post",
        "bread-special": "not published (scheduled)",
    }
    bread = show(config_file, "sourdough-for-beginners")
    assert bread["title"] == "Sourdough for beginners"
    assert bread["author_name"] == "Rosa Lindqvist"
    assert bread["tags"] == ["baking", "basics"]  # the internal #newsletter tag is dropped
    assert bread["published_at"].startswith("2026-01-21T07:00:00")
    assert bread["summary"] == "Start a starter in five days."
    html = bread["content_html"]
    assert "<h2" in html and "<ol>" in html and "<figcaption>" in html and "<pre>" in html
    # __GHOST_URL__ placeholders resolve against site.url
    assert 'src="https://news.example.org/content/images/2026/01/starter.jpg"' in html
    assert "__GHOST_URL__" not in html
    assert bread["image_url"] == "https://news.example.org/content/images/2026/01/loaf.jpg"

    knives = show(config_file, "knife-skills-2")
    assert knives["author_name"] == "Dev Patel"  # the first author by sort_order
    assert "<blockquote>" in knives["content_html"]

    feed = built_feed(config_file)
    assert [e.title for e in feed.entries] == ["Knife skills, part 2", "Sourdough for beginners"]
    assert feed.entries[1].author == "Rosa Lindqvist"


def test_substack_folder_imports_published_posts_and_reports_a_missing_file(
    config_file: Path,
) -> None:
    result = run(config_file, "import", str(EXPORTS / "substack"))
    assert result.exit_code == 1  # one post's HTML file is missing
    lines = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert len(lines) == 1
    assert "posts.csv:5: post 140120333.missing-body" in lines[0]
    assert "no posts/140120333.missing-body.html" in lines[0]
    assert "2 imported" in result.output and "1 skipped" in result.output

    trains = show(config_file, "the-case-for-night-trains")
    assert trains["title"] == "The case for night trains"
    assert trains["summary"] == "Sleep, wake up somewhere else"
    assert trains["published_at"].startswith("2026-01-08T07:02:11")
    assert trains["author_name"] is None  # Substack exports no author: the site's is used
    html = trains["content_html"]
    assert "<h3>Why now</h3>" in html and "<figcaption" in html and "<li>" in html
    feed = built_feed(config_file)
    assert [e.title for e in feed.entries] == ["Timetables, decoded", "The case for night trains"]
    assert "author" not in feed.entries[1] and feed.feed.author.startswith("Desk")


def test_hugo_site_imports_content_only_honours_drafts_and_resolves_bundle_images(
    config_file: Path,
) -> None:
    report = imported(config_file, EXPORTS / "hugo")
    paths = {Path(e["path"]).relative_to(EXPORTS / "hugo").as_posix(): e for e in report["files"]}
    # layouts/, public/ and archetypes/ are not content; _index.md is a list page
    assert set(paths) == {
        "content/posts/_index.md",
        "content/posts/coastal-path.md",
        "content/posts/winter-draft.md",
        "content/posts/lisbon-trip/index.md",
    }
    assert paths["content/posts/_index.md"]["status"] == "skipped"
    assert report["counts"]["imported"] == 3 and report["counts"]["failed"] == 0
    assert paths["content/posts/coastal-path.md"]["warnings"] == []  # weight, aliases: Hugo's

    path = show(config_file, "the-coastal-path-in-march")
    assert path["tags"] == ["coast", "trips", "walking"]  # tags and categories merged
    assert path["author_name"] == "Ines Duarte"
    assert path["published_at"].startswith("2026-01-28T08:15:00")
    assert "<ol>" in path["content_html"] and "<blockquote>" in path["content_html"]
    assert show(config_file, "winter-plans")["state"] == "draft"

    lisbon = show(config_file, "lisbon-trip")  # the bundle's folder names the slug
    page = "https://fieldnotes.example.net/posts/lisbon-trip/"
    assert f'src="{page}tram.jpg"' in lisbon["content_html"]
    assert f'href="{page}route.pdf"' in lisbon["content_html"]
    assert lisbon["image_url"] == f"{page}tram.jpg"
    # Hugo shortcodes expanded as Hugo would; unknown ones removed with a warning
    body = lisbon["content_html"]
    assert f'<figure><img src="{page}tram.jpg" alt="Tram at the top">' in body
    assert "<figcaption>Tram 28 at Graça</figcaption>" in body
    assert 'href="https://fieldnotes.example.net/posts/coastal-path/"' in body
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in body
    assert "curl -s https://example.org/timetable\n</code></pre>" in body
    assert "{{&lt; figure" in body  # the escaped shortcode is shown, not run
    assert "{{&lt; youtube" not in body and "newsletter-signup" not in body
    bundle = next(e for e in report["files"] if e["path"].endswith("lisbon-trip/index.md"))
    assert bundle["warnings"] == [
        "Hugo shortcode 'newsletter-signup' has no equivalent here; removed"
    ]

    feed = built_feed(config_file)
    assert [e.title for e in feed.entries] == ["Three days in Lisbon", "The coastal path in March"]


def test_jekyll_site_imports_posts_with_dates_from_file_names(config_file: Path) -> None:
    report = imported(config_file, EXPORTS / "jekyll")
    names = sorted(Path(e["path"]).name for e in report["files"])
    # _drafts, _layouts, _site and pages (about.md) are not posts
    assert names == ["2025-11-03-first-frost.md", "2025-12-01-seed-catalogue.markdown"]
    frost = show(config_file, "first-frost")
    assert frost["title"] == "First frost on the balcony"
    assert frost["published_at"].startswith("2025-11-02T22:00:00")  # midnight in Kyiv
    assert frost["tags"] == ["frost", "herbs", "seasons"]
    assert frost["author_name"] == "Ada Okafor"
    body = frost["content_html"]
    assert 'src="https://pocketgarden.example.org/assets/img/frost.jpg"' in body
    assert 'href="https://news.example.org/seed-catalogue/"' in body  # {% post_url %}
    assert '<code class="language-ruby">frost = temperature &lt; 2' in body
    assert "Template tip: {{ page.title }} prints the title." in body  # {% raw %}
    assert "{%" not in body and "include" not in body
    assert show(config_file, "seed-catalogue")["state"] == "draft"  # published: false
    feed = built_feed(config_file)
    assert [e.title for e in feed.entries] == ["First frost on the balcony"]


def test_project_folder_skips_templates_feeds_outbox_and_syndicateignore(
    config_file: Path,
) -> None:
    project = config_file.parent
    (project / "articles").mkdir()
    (project / "articles" / "spring.md").write_text("# Spring\n\nBlossom.\n", encoding="utf-8")
    (project / "articles" / "half.wip.md").write_text("# Half\n\nNot yet.\n", encoding="utf-8")
    (project / "notes").mkdir()
    (project / "notes" / "todo.md").write_text("# Todo\n\nCall the printer.\n", encoding="utf-8")
    (project / "templates").mkdir()
    (project / "templates" / "digest.html").write_text("<html><body><h1>{{ t }}</h1></body></html>")
    (project / "feeds" / "all").mkdir(parents=True)
    (project / "feeds" / "all" / "index.html").write_text("<html><body><p>x</p></body></html>")
    (project / "outbox" / "new").mkdir(parents=True)
    (project / "outbox" / "new" / "1.eml.txt").write_text("Subject: hi\n\nbody\n")
    (project / "articles" / "keep.wip.md").write_text("# Keep\n\nRe-included.\n")
    (project / ".syndicateignore").write_text(
        "# drafts and notes\nnotes/\n*.wip.md\n!keep.wip.md\n"
    )
    report = imported(config_file, project)
    stored = [e["path"] for e in report["files"] if e["status"] == "imported"]
    assert stored == [str(project / "articles" / n) for n in ("keep.wip.md", "spring.md")]
    notes = {Path(e["path"]).name: e["note"] for e in report["files"] if e["status"] == "skipped"}
    assert notes == {
        "half.wip.md": "matched by .syndicateignore",
        "notes": "matched by .syndicateignore",
        "templates": "the project's own folder (templates, feeds or outbox)",
        "feeds": "the project's own folder (templates, feeds or outbox)",
        "outbox": "the project's own folder (templates, feeds or outbox)",
    }


def test_export_found_by_content_inside_a_folder_whatever_its_name(
    config_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    (folder / "from-substack").mkdir(parents=True)
    shutil.copy(WXR, folder / "backup.txt.xml")
    shutil.copy(GHOST, folder / "site-data.json")
    shutil.copytree(EXPORTS / "substack", folder / "from-substack", dirs_exist_ok=True)
    (folder / "package.json").write_text('{"name": "not-an-export"}')  # left alone
    report = imported_allow_fail(config_file, folder)
    assert report["counts"]["imported"] == 3 + 2 + 2
    assert report["counts"]["failed"] == 1  # the Substack post without its file


def imported_allow_fail(config_file: Path, path: Path) -> dict:
    result = run(config_file, "import", "--json", str(path))
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_summary_by_default_each_failure_once_and_the_table_with_verbose(
    config_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nFine.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_text("---\ndate: someday\n---\n# Bad\n\nx\n", encoding="utf-8")
    shutil.copy(WXR, tmp_path / "site.xml")
    # the default log level: the pipeline's own log lines must not repeat the failure
    result = CliRunner().invoke(main, ["--config", str(config_file), "import", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.count("someday") == 1
    assert f"failed: {tmp_path / 'bad.md'}:2: front matter date:" in result.output
    assert "4 imported, 0 updated, 0 unchanged, 4 skipped, 1 failed" in result.output
    assert "winter-ferry-timetable" not in result.output  # no table by default
    verbose = CliRunner().invoke(
        main,
        ["--config", str(config_file), "import", "--verbose", str(tmp_path)],
        env={"COLUMNS": "400"},  # one table row per line
    )
    assert verbose.exit_code == 1
    assert "winter-ferry-timetable" in verbose.output and "unchanged" in verbose.output
    assert "password-protected" in verbose.output
    assert "4 unchanged, 4 skipped, 1 failed" in verbose.output


def test_sites_inside_a_bigger_folder_are_walked_through_their_posts_only(
    config_file: Path, tmp_path: Path
) -> None:
    sites = tmp_path / "sites"
    shutil.copytree(EXPORTS / "hugo", sites / "field-notes")
    shutil.copytree(EXPORTS / "jekyll", sites / "garden")
    report = imported(config_file, sites)
    names = sorted(Path(e["path"]).name for e in report["files"] if e["status"] != "skipped")
    # no layouts, built pages, archetypes, Jekyll pages or drafts
    assert names == [
        "2025-11-03-first-frost.md",
        "2025-12-01-seed-catalogue.markdown",
        "coastal-path.md",
        "index.md",
        "winter-draft.md",
    ]
    lisbon = show(config_file, "lisbon-trip")
    assert (
        'src="https://fieldnotes.example.net/posts/lisbon-trip/tram.jpg"' in lisbon["content_html"]
    )


def test_untitled_posts_and_older_ghost_exports(config_file: Path, tmp_path: Path) -> None:
    aside = tmp_path / "asides.xml"
    aside.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "<title><![CDATA[Żegluga: a note in Polish]]></title>", "<title></title>"
        ),
        encoding="utf-8",
    )
    old_ghost = tmp_path / "ghost-1.json"
    old_ghost.write_text(
        json.dumps(
            {
                "db": [
                    {
                        "meta": {"exported_on": 1514764800000, "version": "1.20.0"},
                        "data": {
                            "posts": [
                                {"id": "5a1", "uuid": "0d1f6c8e-0000-4000-8000-000000000001",
                                 "title": "From the old blog", "slug": "from-the-old-blog",
                                 "html": "<p>Written in 2017.</p>", "page": False,
                                 "status": "published", "author_id": "1",
                                 "published_at": "2017-12-01 09:00:00"},
                                {"id": "5a2", "uuid": "0d1f6c8e-0000-4000-8000-000000000002",
                                 "title": "Colophon", "slug": "colophon", "html": "<p>x</p>",
                                 "page": True, "status": "published", "author_id": "1",
                                 "published_at": "2017-01-01 09:00:00"},
                            ],
                            "users": [{"id": "1", "name": "Old Author", "slug": "old"}],
                        },
                    }
                ]
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    report = imported(config_file, aside, old_ghost)
    assert report["counts"]["failed"] == 0
    untitled = next(e for e in report["files"] if e["slug"] == "zegluga")
    assert untitled["warnings"] == [
        "no title; named 'Prom pływa dziś według rozkładu zimowego. 07:10 wyspa 18:40…' "
        "after its text"
    ]
    old = show(config_file, "from-the-old-blog")
    assert old["author_name"] == "Old Author"
    assert old["published_at"].startswith("2017-12-01T09:00:00")
    skipped = {e["path"].rsplit(" ", 1)[1]: e["note"] for e in by_status(report)["skipped"]}
    assert skipped["colophon"] == "a page, not a post"
