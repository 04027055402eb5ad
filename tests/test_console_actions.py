"""Console actions that reuse the CLI's jobs: compose a period now, push to one host."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from syndicate.core.clock import FixedClock
from syndicate.core.db import deliveries, editions
from syndicate.digest import latest_slot
from syndicate.intake.importers.pipeline import import_paths
from syndicate.publishing.publish import publish
from syndicate.service.context import App
from syndicate.service.jobs import build_feeds, pull_now
from syndicate.web import create_app
from syndicate.web.console import audit
from tests.support import EXAMPLES
from tests.support.console import DIGESTS, MONDAY, browser, make_operator


@pytest.fixture
def config_extra() -> str:
    return (
        DIGESTS
        + '\n[[hosts]]\nname = "site"\ntype = "directory"\npath = "published"\n'
        + '\n[[hosts]]\nname = "mirror"\ntype = "directory"\npath = "mirror"\n'
        + '\n[[sources]]\nname = "missing"\npath = "nowhere"\n'
        + '\n[[sources]]\nname = "notes"\npath = "notes"\n'
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App) -> Flask:
    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    from syndicate.core.db import transaction
    from syndicate.readers import subscribers as subs

    with transaction(app.engine) as conn:
        subs.add(conn, "reader@example.org", digests=["weekly"], now=MONDAY)
    return create_app(app)


def test_compose_now_queues_the_current_period_once(app: App, flask: Flask) -> None:
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    token = editor.csrf()
    first = editor.post("/admin/editions/compose", {"csrf": token, "digest": "weekly"})
    assert first.status_code == 303 and "/admin/editions/" in first.headers["Location"]
    again = editor.post("/admin/editions/compose", {"csrf": token, "digest": "weekly"})
    assert again.headers["Location"] == first.headers["Location"]  # the same edition
    unknown = editor.post("/admin/editions/compose", {"csrf": token, "digest": "nope"})
    assert unknown.status_code == 400
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1
        entries = audit.recent(conn)
    assert [e.action for e in entries][:2] == ["edition.compose"] * 2
    assert (entries[1].after["queued"], entries[0].after["queued"]) == (1, 0)


def test_run_now_on_a_digest_job_composes_the_current_period_once(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    """Run-now on digest:NAME is compose-now: the schedule's slot, not this instant,
    and a second click (later) finds that edition instead of mailing another."""
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    token = editor.csrf()
    first = editor.post("/admin/jobs/run", {"csrf": token, "job": "digest:weekly"})
    assert first.status_code == 303 and "/admin/editions/" in first.headers["Location"]
    clock.advance(minutes=5)
    again = editor.post("/admin/jobs/run", {"csrf": token, "job": "digest:weekly"})
    assert again.headers["Location"] == first.headers["Location"]
    with app.engine.connect() as conn:
        ends = conn.execute(select(editions.c.period_end)).scalars().all()
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1
    # The schedule's Monday 08:00 slot (in the digest's zone), not the click's 09:00.
    settings = app.settings.digest("weekly")
    assert ends == [latest_slot(settings, app.settings.digest_timezone(settings), MONDAY)]
    assert ends[0] < MONDAY


def test_push_now_publishes_to_one_host(app: App, flask: Flask) -> None:
    build_feeds(app.engine, app.settings, clock=app.clock)
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    page = editor.get("/admin/feeds")
    assert "Push now" in page.text and "all/rss.xml" in page.text
    answer = editor.post("/admin/feeds/republish", {"csrf": editor.csrf(), "host": "site"})
    assert answer.status_code == 200 and "Pushed to site" in answer.text
    assert (app.settings.resolve("published") / "all" / "rss.xml").is_file()
    assert (
        "Push now"
        not in browser(flask, app, make_operator(app, "v@example.org", "viewer"))
        .get("/admin/feeds")
        .text
    )
    bad = editor.post("/admin/feeds/republish", {"csrf": editor.csrf(), "host": "../etc"})
    assert bad.status_code == 400


def feed_row(html: str, relpath: str) -> str:
    match = re.search(rf"<tr[^>]*><td>{re.escape(relpath)}</td>.*?</tr>", html, re.S)
    assert match, relpath
    return match.group(0)


def test_feeds_page_shows_entries_lint_and_each_hosts_copy(app: App, flask: Flask) -> None:
    build_feeds(app.engine, app.settings, clock=app.clock)
    rss = app.settings.feeds_dir / "all" / "rss.xml"
    items = rss.read_text().count("<item>")
    assert items > 0
    viewer = browser(flask, app, make_operator(app, "v@example.org", "viewer"))
    row = feed_row(viewer.get("/admin/feeds").text, "all/rss.xml")
    assert f"<td>{items}</td>" in row and "clean" in row and row.count("never") == 2

    publish(app.engine, app.settings, clock=app.clock, target="site")
    row = feed_row(viewer.get("/admin/feeds").text, "all/rss.xml")
    assert "(current)" in row and row.count("never") == 1  # on site, not on mirror

    # Rebuilt by hand into something broken: linted again (new size), an older copy on site.
    rss.write_text('<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>')
    row = feed_row(viewer.get("/admin/feeds").text, "all/rss.xml")
    assert 'class="bad"' in row and "problem" in row and "(older copy)" in row
    assert "<td>0</td>" in row


def test_dashboard_shows_each_sources_last_pull(app: App, flask: Flask) -> None:
    assert pull_now(app, "missing").status == "failed"
    page = browser(flask, app, make_operator(app, "v@example.org", "viewer")).get("/admin/").text
    section = page[page.index('id="sources-h"') :]
    missing = feed_row(section, "missing")
    assert 'class="bad"' in missing and "failed" in missing and "no such folder" in missing
    assert MONDAY.strftime("%Y-%m-%d %H:%M") in missing
    notes = feed_row(section, "notes")
    assert notes.count("never") == 2 and 'class="bad"' not in notes


def test_export_gives_the_list_as_csv_and_is_audited(app: App, flask: Flask) -> None:
    """The CSV an editor downloads is the list as `syndicate subscribers import` reads
    it (filtered by status when asked), and the audit log says who took it."""
    import csv
    import io

    from syndicate.core.db import transaction
    from syndicate.readers import subscribers as subs

    with transaction(app.engine) as conn:
        subs.add(conn, "left@example.org", name="Left", digests=["weekly"], now=MONDAY)
        subs.suppress(conn, "left@example.org", "bounced", "550", MONDAY)
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    token = editor.csrf()
    everyone = editor.post("/admin/subscribers/export", {"csrf": token})
    assert everyone.status_code == 200 and everyone.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(everyone.get_data(as_text=True))))
    assert sorted(r["email"] for r in rows) == ["left@example.org", "reader@example.org"]
    bounced = editor.post("/admin/subscribers/export?status=bounced", {"csrf": token})
    rows = list(csv.DictReader(io.StringIO(bounced.get_data(as_text=True))))
    assert [(r["email"], r["status"]) for r in rows] == [("left@example.org", "bounced")]
    with app.engine.connect() as conn:
        exports = [e for e in audit.recent(conn, limit=10) if e.action == "subscriber.export"]
    assert [e.actor for e in exports] == ["ed@example.org", "ed@example.org"]
