"""Re-import, identity across renames and site moves, slugs, drafts, dry runs, atomicity."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from syndicate import articles
from syndicate.core.clock import FixedClock
from syndicate.core.db import article_tags, transaction
from syndicate.core.db import articles as articles_table
from syndicate.intake.importers import import_paths
from syndicate.service.context import App

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def write(
    path: Path, title: str = "Bridge Closed", body: str = "The bridge is closed.", **fm: str
) -> Path:
    front = {"title": title, "date": "2026-11-10", "tags": "[roads]", **fm}
    lines = "".join(f"{key}: {value}\n" for key, value in front.items())
    path.write_text(f"---\n{lines}---\n{body}\n", encoding="utf-8")
    return path


def stored(app: App) -> list[articles.Article]:
    with transaction(app.engine) as conn:
        return articles.all_articles(conn)


def row_count(app: App) -> tuple[int, int]:
    with transaction(app.engine) as conn:
        return (
            conn.execute(select(func.count()).select_from(articles_table)).scalar_one(),
            conn.execute(select(func.count()).select_from(article_tags)).scalar_one(),
        )


def test_reimport_unchanged_changes_nothing(app: App, clock: FixedClock, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md")
    assert (
        import_paths(app.engine, app.settings, clock=app.clock, paths=[path]).counts["imported"]
        == 1
    )
    (before,) = stored(app)
    clock.advance(days=3)
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert [o.status for o in report.outcomes] == ["unchanged"]
    (after,) = stored(app)
    assert after == before  # every column, imported_at included


def test_changed_file_updates_and_bumps_updated(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "bridge.md")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (before,) = stored(app)
    clock.set(NOW)
    write(path, title="Bridge Closed Until March", body="The bridge is closed until March.")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert [o.status for o in report.outcomes] == ["updated"]
    (after,) = stored(app)
    assert (after.uid, after.slug, after.id) == (before.uid, before.slug, before.id)
    assert after.title == "Bridge Closed Until March"
    assert after.content_text == "The bridge is closed until March."
    assert after.updated_at == NOW > before.updated_at
    assert after.published_at == before.published_at


def test_explicit_updated_date_wins(app: App, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    write(path, body="Changed.", updated="2026-11-15T10:00:00Z")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert stored(app)[0].updated_at == datetime(2026, 11, 15, 10, 0, tzinfo=UTC)


def test_rename_keeps_the_uid(app: App, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (before,) = stored(app)
    renamed = path.rename(tmp_path / "2026-bridge.md")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[renamed])
    assert report.outcomes[0].status == "updated"
    assert any("renamed from" in w for w in report.outcomes[0].warnings)
    (after,) = stored(app)
    assert (after.uid, after.slug, after.updated_at) == (before.uid, before.slug, before.updated_at)
    assert after.source == str(renamed.resolve())


def test_rename_with_front_matter_id_and_changes(app: App, tmp_path: Path) -> None:
    uid = "tag:news.example.org,2026:bridge"
    path = write(tmp_path / "bridge.md", id=uid)
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    path.unlink()
    moved = write(tmp_path / "moved.md", id=uid, title="New Title", body="New body.")
    assert (
        import_paths(app.engine, app.settings, clock=app.clock, paths=[moved]).outcomes[0].status
        == "updated"
    )
    (after,) = stored(app)
    assert (after.uid, after.title) == (uid, "New Title")


def test_two_files_claiming_one_id_fail_clearly(app: App, tmp_path: Path) -> None:
    uid = "tag:news.example.org,2026:bridge"
    first = write(tmp_path / "a.md", id=uid)
    second = write(tmp_path / "b.md", id=uid, title="Other")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[first, second])
    assert [o.status for o in report.outcomes] == ["imported", "failed"]
    assert "already used by" in report.outcomes[1].reason
    assert str(first.resolve()) in report.outcomes[1].reason


def test_uid_survives_site_url_change_and_title_change(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "bridge.md", body="See [the map](/maps/bridge/).")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (before,) = stored(app)
    assert "https://news.example.org/maps/bridge/" in before.content_html
    site = app.settings.site.model_copy(update={"url": "https://transport.example.net/"})
    moved = App(app.settings.model_copy(update={"site": site}), clock=clock, _engine=app.engine)
    write(path, title="A New Title", body="See [the map](/maps/bridge/).")
    assert (
        import_paths(moved.engine, moved.settings, clock=moved.clock, paths=[path])
        .outcomes[0]
        .status
        == "updated"
    )
    (after,) = stored(app)
    assert after.uid == before.uid
    assert after.slug == before.slug  # URLs stay put when only the title changes
    assert "https://transport.example.net/maps/bridge/" in after.content_html


def test_config_change_alone_keeps_updated_at(app: App, clock: FixedClock, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (before,) = stored(app)
    clock.set(NOW)
    site = app.settings.site.model_copy(update={"iframe_hosts": ["www.youtube.com"]})
    changed = App(app.settings.model_copy(update={"site": site}), clock=clock, _engine=app.engine)
    assert (
        import_paths(changed.engine, changed.settings, clock=changed.clock, paths=[path])
        .outcomes[0]
        .status
        == "updated"
    )  # new fingerprint
    (after,) = stored(app)
    assert after.content_html == before.content_html
    assert after.updated_at == before.updated_at  # readers see nothing new


def test_minted_uid_is_a_tag_uri(app: App, tmp_path: Path) -> None:
    import_paths(app.engine, app.settings, clock=app.clock, paths=[write(tmp_path / "bridge.md")])
    assert stored(app)[0].uid == "tag:news.example.org,2026-11-10:bridge-closed"


def test_slug_collisions_get_numbered(app: App, tmp_path: Path) -> None:
    paths = [write(tmp_path / f"{n}.md", body=f"Body {n}.") for n in range(3)]
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=paths)
    assert [o.slug for o in report.outcomes] == [
        "bridge-closed",
        "bridge-closed-2",
        "bridge-closed-3",
    ]
    assert len({a.uid for a in stored(app)}) == 3


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Міст закрито на ремонт", "mist-zakrito-na-remont"),
        ("Ο δρόμος άνοιξε", "o-dromos-anoixe"),
        ("大桥 关闭", "da-qiao-guan-bi"),
        ("Straße gesperrt", "strasse-gesperrt"),
    ],
)
def test_titles_in_any_script_give_a_readable_slug(
    app: App, tmp_path: Path, title: str, slug: str
) -> None:
    """Not a generic ``article-2``: a reader can still tell the URL from the title."""
    report = import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[write(tmp_path / "a.md", title=f'"{title}"')],
    )
    assert report.outcomes[0].slug == slug
    assert stored(app)[0].slug == slug


def test_front_matter_slug_change_moves_the_slug(app: App, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    write(path, slug="bridge-works")
    assert (
        import_paths(app.engine, app.settings, clock=app.clock, paths=[path]).outcomes[0].slug
        == "bridge-works"
    )
    assert stored(app)[0].slug == "bridge-works"


def test_drafts_and_future_articles_are_stored_but_not_published(app: App, tmp_path: Path) -> None:
    draft = write(tmp_path / "draft.md", title="Draft", draft="true")
    future = write(tmp_path / "future.md", title="Future", date="2026-12-24")
    visible = write(tmp_path / "now.md", title="Visible")
    assert (
        import_paths(
            app.engine, app.settings, clock=app.clock, paths=[draft, future, visible]
        ).counts["imported"]
        == 3
    )
    with transaction(app.engine) as conn:
        assert len(articles.all_articles(conn)) == 3
        shown = articles.published(conn, now=NOW)
    assert [a.title for a in shown] == ["Visible"]


def test_dry_run_reports_and_stores_nothing(app: App, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path], dry_run=True)
    assert [(o.status, o.slug) for o in report.outcomes] == [("would-import", "bridge-closed")]
    assert row_count(app) == (0, 0)
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    before = stored(app)
    write(path, body="Changed.")
    assert (
        import_paths(app.engine, app.settings, clock=app.clock, paths=[path], dry_run=True)
        .outcomes[0]
        .status
        == "would-update"
    )
    assert (
        import_paths(app.engine, app.settings, clock=app.clock, paths=[path], dry_run=True)
        .outcomes[0]
        .status
        == "would-update"
    )
    assert stored(app) == before


def test_tags_are_replaced_on_update(app: App, tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.md", tags="[roads, analysis]")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    write(path, tags="[bridges]")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert stored(app)[0].tags == ("bridges",)
    assert row_count(app) == (1, 1)


def test_missing_date_falls_back_to_file_time_with_a_warning(app: App, tmp_path: Path) -> None:
    path = tmp_path / "undated.txt"
    path.write_text("Undated Notice\n\nThe office is closed today.\n", encoding="utf-8")
    stamp = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert "no date in the file" in report.outcomes[0].warnings[0]
    assert stored(app)[0].published_at == datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    os.utime(path, (stamp + 3600, stamp + 3600))  # touched, not changed
    assert (
        import_paths(app.engine, app.settings, clock=app.clock, paths=[path]).outcomes[0].status
        == "unchanged"
    )


def test_a_bad_file_stops_nothing_and_stores_nothing(app: App, tmp_path: Path) -> None:
    good_a = write(tmp_path / "a.md", title="First")
    bad = tmp_path / "b.md"
    bad.write_text("---\ntitle: Broken\ndate: not a date\n---\nBody\n", encoding="utf-8")
    good_c = write(tmp_path / "c.md", title="Third")
    report = import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[good_a, bad, good_c, tmp_path / "missing.md"],
    )
    assert [o.status for o in report.outcomes] == ["imported", "failed", "imported", "failed"]
    assert report.counts["failed"] == 2 and not report.ok
    assert report.outcomes[3].reason == "no such file or folder"
    assert row_count(app) == (2, 2)
    assert sorted(a.title for a in stored(app)) == ["First", "Third"]


def test_a_failure_inside_the_transaction_leaves_nothing(app: App, tmp_path: Path) -> None:
    """A body that sanitises to nothing fails after the slug is chosen: no row remains."""
    path = tmp_path / "empty-body.html"
    path.write_text("<h1>Only a title</h1><script>x()</script>", encoding="utf-8")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert report.outcomes[0].status == "failed"
    assert "no body text" in report.outcomes[0].reason
    assert row_count(app) == (0, 0)


def test_overlong_image_type_is_dropped_with_a_warning(app: App, tmp_path: Path) -> None:
    kind = "image/" + "x" * 300  # image_type is String(100): PostgreSQL refused the row
    path = write(tmp_path / "bridge.md", image=f'{{url: "/img/bridge.jpg", type: "{kind}"}}')
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert report.outcomes[0].status == "imported", report.outcomes[0].reason
    assert any("is not a media type" in w for w in report.outcomes[0].warnings)
    (article,) = stored(app)
    assert article.image_url == "https://news.example.org/img/bridge.jpg"
    assert article.image_type is None


def test_minted_uid_too_long_for_the_column_falls_back_to_a_uuid(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    host = ".".join(["a" * 60, "b" * 60, "example", "org"])
    site = app.settings.site.model_copy(update={"url": f"https://{host}/"})
    long_host = App(app.settings.model_copy(update={"site": site}), clock=clock, _engine=app.engine)
    title = "Bridge closed " + "and more words " * 10
    report = import_paths(
        long_host.engine,
        long_host.settings,
        clock=long_host.clock,
        paths=[write(tmp_path / "bridge.md", title=title)],
    )
    assert report.outcomes[0].status == "imported", report.outcomes[0].reason
    (article,) = stored(app)
    assert article.uid.startswith("urn:uuid:") and len(article.uid) <= 200


def test_no_free_slug_names_the_file(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.intake.importers import store

    monkeypatch.setattr(store, "MAX_SLUG_SUFFIX", 3)
    paths = [write(tmp_path / f"bridge-{n}.md") for n in range(3)]
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=paths)
    assert [o.status for o in report.outcomes] == ["imported", "imported", "failed"]
    error = report.outcomes[2].error
    assert error is not None and error.path == str(paths[2])
    assert str(paths[2]) in str(error) and "no free slug" in error.reason


def test_remove_takes_the_tags_with_the_article(app: App, tmp_path: Path) -> None:
    import_paths(app.engine, app.settings, clock=app.clock, paths=[write(tmp_path / "bridge.md")])
    assert row_count(app) == (1, 1)
    (article,) = stored(app)
    with transaction(app.engine) as conn:
        articles.remove(conn, article.id)
    assert row_count(app) == (0, 0)  # article_tags cascade on both databases


def test_iso_date_with_a_space_and_minutes(app: App, tmp_path: Path) -> None:
    import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[write(tmp_path / "bridge.md", date="2026-11-10 09:30")],
    )
    # Read in the site's zone (Europe/Kyiv, UTC+2 in November).
    assert stored(app)[0].published_at == datetime(2026, 11, 10, 7, 30, tzinfo=UTC)


def test_listing_without_bodies(app: App, tmp_path: Path) -> None:
    import_paths(app.engine, app.settings, clock=app.clock, paths=[write(tmp_path / "bridge.md")])
    with transaction(app.engine) as conn:
        (light,) = articles.all_articles(conn, bodies=False)
    (full,) = stored(app)
    assert (light.content_html, light.content_text) == ("", "")
    assert (light.slug, light.title, light.tags) == (full.slug, full.title, full.tags)
