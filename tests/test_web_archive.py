"""Public edition pages, the editions' Atom feed, and /metrics read from the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.core.db import deliveries, editions, job_runs, pushes, transaction
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import T0, write_config

EDITION_HTML = (
    "<!DOCTYPE html><html><head><style>p{color:#111}</style></head><body>"
    '<p style="margin:0">Hello @@name@@ (@@email@@)</p><h2>{title}</h2>'
    '<a href="@@unsubscribe_url@@">Unsubscribe</a> <a href="@@preferences_url@@">Preferences</a>'
    "</body></html>"
)


@pytest.fixture
def config_extra() -> str:
    return """
[[digests]]
name = "weekly"
title = "Weekly news"
description = "Every Monday."
schedule = "0 8 * * MON"
timezone = "Europe/Kyiv"
"""


def add_edition(app: App, period_days: int, title: str, status: str = "composed") -> int:
    slot = T0 - timedelta(days=period_days)
    with transaction(app.engine) as conn:
        return conn.execute(
            insert(editions)
            .values(
                digest="weekly",
                period=slot.strftime("%Y-%m-%dT%H:%M:%SZ"),
                period_start=slot - timedelta(days=7),
                period_end=slot,
                status=status,
                subject=f"Weekly news: {title}",
                html=EDITION_HTML.replace("{title}", title),
                text="",
                created_at=slot,
            )
            .returning(editions.c.id)
        ).scalar_one()


@pytest.fixture
def client(app: App) -> FlaskClient:
    return create_app(app).test_client()


def test_edition_page_has_no_personal_values(client: FlaskClient, app: App) -> None:
    add_edition(app, 7, "Older")
    add_edition(app, 0, "Newest <b>bold</b>")
    add_edition(app, 14, "Skipped", status="empty")
    page = client.get("/digests/weekly/2026-03-02")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Newest <b>bold</b>" in html
    assert "@@" not in html
    assert 'href="https://news.example.org/unsubscribe"' in html
    assert 'href="https://news.example.org/preferences"' in html
    csp = page.headers["Content-Security-Policy"]
    assert (
        "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    )
    assert client.get("/digests/weekly/2026-02-23").status_code == 200
    assert (
        client.get("/digests/weekly/2026-02-16").status_code == 404
    )  # empty editions are not pages
    assert client.get("/digests/weekly/not-a-date").status_code == 404
    assert client.get("/digests/monthly/").status_code == 404
    again = client.get(
        "/digests/weekly/2026-03-02", headers={"If-None-Match": page.headers["ETag"]}
    )
    assert again.status_code == 304


def test_archive_pages_do_not_prepare_a_mail(
    tmp_path: Path, store_url: str, config_extra: str, clock: FixedClock
) -> None:
    """A page needs only the substitution: no DKIM key is read (here it is missing)."""
    dkim = '[mail.dkim]\ndomain = "news.example.org"\nselector = "s1"\n'
    dkim += 'private_key_file = "missing.pem"\n'
    settings = load_settings(write_config(tmp_path, store_url, config_extra + dkim))
    app = App(settings, clock=clock)
    try:
        add_edition(app, 0, "Signed")
        client = create_app(app).test_client()
        page = client.get("/digests/weekly/2026-03-02")
        assert page.status_code == 200 and "Signed" in page.get_data(as_text=True)
        feed = feedparser.parse(client.get("/digests/weekly/atom.xml").data)
        assert "Signed" in feed.entries[0].content[0].value
    finally:
        app.close()


def test_index_lists_editions_newest_first(client: FlaskClient, app: App) -> None:
    add_edition(app, 7, "Older")
    add_edition(app, 0, "Newest")
    html = client.get("/digests/weekly/").get_data(as_text=True)
    assert html.index("2026-03-02") < html.index("2026-02-23")
    assert 'href="/digests/weekly/atom.xml"' in html and "Every Monday." in html


def test_atom_of_editions(client: FlaskClient, app: App) -> None:
    add_edition(app, 7, "Older")
    add_edition(app, 0, "Newest")
    response = client.get("/digests/weekly/atom.xml")
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == ["Weekly news: Newest", "Weekly news: Older"]
    assert parsed.entries[0].link == "https://news.example.org/digests/weekly/2026-03-02"
    assert parsed.entries[0].id.startswith("urn:uuid:")
    assert "@@" not in response.get_data(as_text=True)
    assert parsed.feed.updated.startswith("2026-03-02T09:00:00")
    assert client.get("/digests/weekly/atom.xml").data == response.data  # deterministic


def test_metrics_from_the_store(client: FlaskClient, app: App) -> None:
    edition_id = add_edition(app, 0, "Now")
    with transaction(app.engine) as conn:
        for n, state in enumerate(["sent", "sent", "queued", "deferred", "failed"]):
            conn.execute(
                insert(deliveries).values(
                    edition_id=edition_id,
                    subscriber_id=None,
                    email=f"x{n}@example.org",
                    status=state,
                    not_before=T0,
                    message_id=f"<{n}@x>",
                    created_at=T0,
                )
            )
        conn.execute(
            insert(job_runs).values(
                job="feeds",
                slot="a",
                status="ok",
                started_at=T0,
                finished_at=T0 + timedelta(seconds=3),
            )
        )
        conn.execute(
            insert(job_runs).values(
                job="deliver", slot="b", status="failed", started_at=T0, finished_at=T0
            )
        )
        conn.execute(insert(pushes).values(host="site", started_at=T0, finished_at=T0))
    text = client.get("/metrics").get_data(as_text=True)
    values = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert values[("syndicate_emails", (("state", "sent"),))] == 2
    assert values[("syndicate_emails", (("state", "failed"),))] == 1
    assert values[("syndicate_queue_depth", ())] == 2
    assert values[("syndicate_last_feed_build_timestamp_seconds", ())] == T0.timestamp() + 3
    assert values[("syndicate_last_push_timestamp_seconds", (("host", "site"),))] == T0.timestamp()
    assert values[("syndicate_job_runs", (("job", "deliver"), ("status", "failed")))] == 1
    assert values[("syndicate_subscribers", (("status", "active"),))] == 0
