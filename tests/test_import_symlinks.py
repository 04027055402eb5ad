"""The importer never follows a link out of the folder being imported.

``ln -s /etc/passwd articles/p.txt; syndicate import articles`` used to publish the
password file in the feeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.articles import all_articles
from syndicate.cli import main
from syndicate.intake.importers import import_paths
from syndicate.intake.importers.walk import collect
from syndicate.service.context import App

SECRET = "root:x:0:0:SECRET-LINE:/root:/bin/bash"


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """``articles/`` (imported) beside ``private/`` (never to be read)."""
    private = tmp_path / "private"
    (private / "more").mkdir(parents=True)
    (private / "passwd.txt").write_text(f"Passwords\n\n{SECRET}\n", encoding="utf-8")
    (private / "more" / "notes.md").write_text(f"# Notes\n\n{SECRET}\n", encoding="utf-8")
    articles = tmp_path / "articles"
    (articles / "sub").mkdir(parents=True)
    (articles / "real.md").write_text("# Real\n\nA real article.\n", encoding="utf-8")
    return articles, private


def _bodies(app: App) -> str:
    with app.engine.connect() as conn:
        return "\n".join(f"{a.title} {a.content_html}" for a in all_articles(conn))


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def test_links_out_of_the_folder_are_skipped_and_named(app: App, tree) -> None:
    articles, private = tree
    file_link = _link(articles / "p.txt", private / "passwd.txt")
    deep_link = _link(articles / "sub" / "q.txt", Path("../../private/passwd.txt"))
    chain = _link(articles / "chain.txt", articles / "p.txt")  # inside -> outside
    folder_link = _link(articles / "docs", private / "more")
    inside = _link(articles / "again.md", articles / "real.md")  # stays inside: fine
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[articles])
    skipped = {o.path: o.reason for o in report.outcomes if o.status == "skipped"}
    assert set(skipped) == {str(file_link), str(deep_link), str(chain), str(folder_link)}
    assert str((private / "passwd.txt").resolve()) in skipped[str(file_link)]
    assert "outside the folder being imported" in skipped[str(file_link)]
    assert report.counts["imported"] == 1 and report.ok
    assert str(inside) not in skipped
    assert SECRET not in _bodies(app) and "Real" in _bodies(app)


def test_a_link_named_directly_is_held_to_its_own_folder(app: App, tree) -> None:
    articles, private = tree
    link = _link(articles / "p.txt", private / "passwd.txt")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[link])
    assert [o.status for o in report.outcomes] == ["skipped"]
    assert SECRET not in _bodies(app)


def test_the_cli_says_which_file_was_skipped_and_why(config_file: Path, tree) -> None:
    articles, _private = tree
    _link(articles / "p.txt", Path("/etc/passwd"))
    result = CliRunner().invoke(
        main,
        ["--config", str(config_file), "--log-level", "error", "import", "--json", str(articles)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"]["skipped"] == 1 and report["counts"]["imported"] == 1
    [entry] = [f for f in report["files"] if f["status"] == "skipped"]
    assert entry["path"].endswith("p.txt") and "/etc/passwd" in entry["note"]
    assert "root:" not in result.output


def test_a_hugo_content_link_out_of_the_folder_is_skipped(app: App, tree) -> None:
    """A Hugo site's ``content`` folder is where the walk starts: a link there to a
    folder outside must not be walked."""
    articles, private = tree
    (articles / "hugo.toml").write_text('baseURL = "https://example.org/"\n', encoding="utf-8")
    content = _link(articles / "content", private)
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[articles])
    skipped = {o.path: o.reason for o in report.outcomes if o.status == "skipped"}
    assert str(content) in skipped and "outside the folder being imported" in skipped[str(content)]
    assert report.counts["imported"] == 0
    assert SECRET not in _bodies(app)


def test_a_nested_hugo_site_content_link_is_skipped(app: App, tree) -> None:
    articles, private = tree
    site = articles / "blog"
    site.mkdir()
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\n', encoding="utf-8")
    _link(site / "content", private)
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[articles])
    assert report.counts["imported"] == 1  # real.md only
    assert any(o.path == str(site / "content") for o in report.outcomes if o.status == "skipped")
    assert SECRET not in _bodies(app)


def test_a_hugo_content_link_inside_the_folder_is_followed(app: App, tree) -> None:
    articles, _private = tree
    posts = articles / "sub" / "posts"
    posts.mkdir()
    (posts / "hello.md").write_text("# Hello\n\nInside.\n", encoding="utf-8")
    (articles / "hugo.toml").write_text('baseURL = "https://example.org/"\n', encoding="utf-8")
    _link(articles / "content", articles / "sub")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[articles])
    assert report.counts["imported"] == 1 and "Hello" in _bodies(app)
    assert not [o for o in report.outcomes if o.status == "skipped"]


def test_a_walk_never_yields_a_unit_outside_the_folder(tmp_path: Path, tree) -> None:
    """Whatever the walk meets, every unit resolves inside the folder imported."""
    articles, private = tree
    (articles / "hugo.toml").write_text('baseURL = "https://example.org/"\n', encoding="utf-8")
    _link(articles / "content", private)
    walk = collect([articles])
    assert walk.units == [] and [p.name for p, _ in walk.skipped] == ["content"]
