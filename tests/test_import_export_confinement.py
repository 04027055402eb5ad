"""An export's own files never lead out of it: a Substack ``post_id`` naming
``../../private/key``, a listing or body linked outside, a page bundle's image
pointing up the tree; and a broken CSV is one line naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.articles import all_articles
from syndicate.intake.importers import import_paths
from syndicate.service.context import App

SECRET = "SECRET-LINE-never-published"
HEADER = "post_id,post_date,is_published,type,audience,title,subtitle\n"


def _row(post_id: str, title: str = "Post") -> str:
    return f"{post_id},2026-01-08T07:02:11.318Z,true,newsletter,everyone,{title},\n"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A Substack export folder with one good post, beside a private folder."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "key.html").write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    folder = tmp_path / "exports" / "substack"
    (folder / "posts").mkdir(parents=True)
    (folder / "posts" / "1.good.html").write_text("<p>Good body</p>", encoding="utf-8")
    return folder


def _bodies(app: App) -> str:
    with app.engine.connect() as conn:
        return "\n".join(f"{a.title} {a.content_html}" for a in all_articles(conn))


def _failed(report) -> list[str]:
    return [o.error.message for o in report.outcomes if o.status == "failed" and o.error]


@pytest.mark.parametrize(
    "post_id",
    ["../../../private/key", "..\\..\\private\\key", "1.a/../../../../private/key", "*", "2.[a]"],
)
def test_a_post_id_that_names_a_path_is_refused(app: App, export: Path, post_id: str) -> None:
    (export / "posts.csv").write_text(HEADER + _row("1.good") + _row(post_id, "Evil"))
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[export])
    assert report.counts["imported"] == 1
    [message] = _failed(report)
    assert "post_id is not a Substack post id" in message and "posts.csv:3" in message
    assert SECRET not in _bodies(app) and "Good body" in _bodies(app)


def test_a_body_linked_out_of_the_export_is_not_read(app: App, export: Path) -> None:
    (export / "posts" / "2.evil.html").symlink_to(export.parent.parent / "private" / "key.html")
    (export / "posts.csv").write_text(HEADER + _row("1.good") + _row("2.evil", "Evil"))
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[export])
    assert report.counts["imported"] == 1 and len(_failed(report)) == 1
    assert SECRET not in _bodies(app)


def test_a_posts_folder_linked_out_of_the_export_is_not_read(app: App, export: Path) -> None:
    private = export.parent.parent / "private"
    (private / "3.evil.html").write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    (export / "posts" / "1.good.html").unlink()
    (export / "posts").rmdir()
    (export / "posts").symlink_to(private)
    (export / "posts.csv").write_text(HEADER + _row("3.evil", "Evil"))
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[export])
    assert report.counts["imported"] == 0 and len(_failed(report)) == 1
    assert SECRET not in _bodies(app)


def test_a_listing_linked_out_of_the_export_is_refused(app: App, export: Path) -> None:
    outside = export.parent.parent / "private" / "posts.csv"
    outside.write_text(HEADER + _row("1.good"))
    (export / "posts.csv").symlink_to(outside)
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[export])
    [message] = _failed(report)
    assert "outside the export" in message and str(export / "posts.csv") in message
    assert report.counts["imported"] == 0


def test_a_field_over_the_csv_limit_is_one_line_naming_file_and_line(
    app: App, export: Path
) -> None:
    huge = '"' + "x" * 200_000 + '"'
    (export / "posts.csv").write_text(HEADER + _row("1.good") + _row("2.big", huge))
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[export])
    [message] = _failed(report)
    assert message.startswith(f"{export / 'posts.csv'}:3: broken CSV") and "field" in message
    assert report.counts["imported"] == 1  # the post before the break is kept


def test_a_bundle_image_up_the_tree_is_not_probed(app: App, tmp_path: Path) -> None:
    """A page bundle's image must be in the bundle: ``../../../etc/hostname`` only says so,
    never whether the file exists outside."""
    bundle = tmp_path / "articles" / "trip"
    bundle.mkdir(parents=True)
    (bundle / "index.md").write_text(
        "---\ntitle: Trip\n---\n\n![x](../../../../../../etc/hostname)\n\n![y](photo.jpg)\n",
        encoding="utf-8",
    )
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[tmp_path / "articles"])
    [outcome] = [o for o in report.outcomes if o.status == "imported"]
    assert any("leads outside the page bundle" in w for w in outcome.warnings)
    assert any("image photo.jpg is not in the page bundle" in w for w in outcome.warnings)
