"""A golden edition for a small fixed store (UPDATE_GOLDEN=1 to accept a change)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from syndicate.digest import compose
from syndicate.service.context import App
from tests.support import check_golden
from tests.support.digests import DIGEST_CONFIG, add_dated_article

SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


def fixed_store(app: App) -> None:
    add_dated_article(
        app,
        "Night trams return to the river line",
        SLOT - timedelta(days=1, hours=3),
        summary="From Friday, trams 2 and 7 run every 20 minutes after midnight between "
        "the depot and the river station, the transport desk was told.",
        tags=("transit",),
        image_url="https://news.example.org/media/night-tram.jpg",
        slug="night-trams-return",
    )
    add_dated_article(
        app,
        "Budget hearing: what the bridge repair costs",
        SLOT - timedelta(days=3),
        summary="Council members asked for a breakdown of the 4% overrun; the answer, "
        'with "{{ estimates }}" still in the draft, is due next week.',
        tags=("analysis",),
        author="Budget Desk",
        slug="bridge-repair-costs",
    )
    add_dated_article(
        app,
        "Library opens on Sundays <for a trial>",
        SLOT - timedelta(days=5),
        summary="The central library opens 10:00-16:00 on Sundays for three months.",
        author=None,
        slug="library-sundays",
    )
    add_dated_article(
        app,
        "Market square resurfacing starts",
        SLOT - timedelta(days=6),
        summary="Stalls move to the east side while the square is resurfaced.",
        slug="market-square-resurfacing",
    )


def test_golden_edition(app: App) -> None:
    fixed_store(app)
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert edition.status == "composed"
    assert edition.article_count == 3 and edition.more_count == 1
    assert "Library opens on Sundays &lt;for a trial&gt;" in edition.html
    check_golden("editions/weekly.html", edition.html)
    check_golden("editions/weekly.txt", edition.text)
    summary = {
        "subject": edition.subject,
        "period": edition.period,
        "period_start": edition.period_start.isoformat(),
        "article_count": edition.article_count,
        "more_count": edition.more_count,
        "html_bytes": edition.html_bytes,
    }
    check_golden("editions/weekly.json", json.dumps(summary, indent=2) + "\n")
