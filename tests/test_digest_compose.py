"""Composing editions against a real store with a fixed clock (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from syndicate.core.clock import FixedClock
from syndicate.core.db import edition_articles, editions
from syndicate.core.errors import DigestError
from syndicate.digest import compose, find_edition, record_skipped, render_edition
from syndicate.service.context import App
from tests.support.digests import DIGEST_CONFIG, add_dated_article

SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)  # Monday 08:00 Kyiv, one hour before T0
WEEK = timedelta(days=7)


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


def titles_of(app: App, edition_id: int) -> list[str]:
    from syndicate.articles import by_ids

    with app.engine.connect() as conn:
        edition = find_edition(conn, edition_id=edition_id)
        assert edition is not None
        return [a.title for a in by_ids(conn, list(edition.article_ids))]


def test_first_edition_reaches_back_lookback_and_up_to_compose_time(
    app: App, clock: FixedClock
) -> None:
    """A digest's very first edition also takes what was published between its slot
    and the moment it is composed (a new site's first run mails the article just
    written); nothing dated after that moment."""
    add_dated_article(app, "Too old", SLOT - timedelta(days=15))
    add_dated_article(app, "Older", SLOT - timedelta(days=10))
    add_dated_article(app, "Newer", SLOT - timedelta(days=1))
    add_dated_article(app, "After the slot", SLOT + timedelta(minutes=30))
    add_dated_article(app, "After composing", clock.now() + timedelta(minutes=5))
    add_dated_article(app, "A draft", SLOT - timedelta(days=2), draft=True)

    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)

    assert edition.status == "composed"
    assert edition.slot == SLOT
    assert edition.period == "2026-03-02T06:00:00Z"
    assert edition.period_start == SLOT - timedelta(days=14)
    assert titles_of(app, edition.id) == ["After the slot", "Newer", "Older"]
    assert edition.subject == "Test News weekly: 2026-03-02"
    assert "Newer" in edition.html and "Newer" in edition.text
    assert edition.html_bytes == len(edition.html.encode())

    clock.set(SLOT + timedelta(days=7, minutes=1))
    second = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert second.slot == SLOT + timedelta(days=7)
    assert titles_of(app, second.id) == ["After composing"]  # never "After the slot" again


def test_a_later_edition_stops_at_its_slot(app: App, clock: FixedClock) -> None:
    add_dated_article(app, "Newer", SLOT - timedelta(days=1))
    compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    add_dated_article(app, "Before the next slot", SLOT + timedelta(days=6))
    add_dated_article(app, "After the next slot", SLOT + timedelta(days=7, minutes=30))
    clock.set(SLOT + timedelta(days=7, hours=1))
    second = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert titles_of(app, second.id) == ["Before the next slot"]


def test_composing_a_period_twice_returns_the_stored_edition(app: App) -> None:
    add_dated_article(app, "One", SLOT - timedelta(days=1))
    first = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    second = compose(
        app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock, slot=SLOT
    )
    assert first.created and not second.created
    assert second == first
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 1


def test_consecutive_editions_never_repeat_an_article(app: App, clock: FixedClock) -> None:
    add_dated_article(app, "Week one", SLOT - timedelta(days=2))
    first = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    add_dated_article(app, "Week two", SLOT + timedelta(days=3))
    clock.advance(days=7)
    second = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert second.slot == SLOT + WEEK
    assert second.period_start == first.period_end
    assert titles_of(app, second.id) == ["Week two"]


def test_downtime_across_several_periods_is_covered_once(app: App, clock: FixedClock) -> None:
    add_dated_article(app, "Before", SLOT - timedelta(days=1))
    compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    for day in (3, 10, 17):  # one article in each missed week
        add_dated_article(app, f"Day {day}", SLOT + timedelta(days=day))
    clock.set(SLOT + 3 * WEEK + timedelta(hours=1))

    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)

    assert edition.slot == SLOT + 3 * WEEK
    assert edition.period_start == SLOT
    assert titles_of(app, edition.id) == ["Day 17", "Day 10", "Day 3"]
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 2


def test_skipped_slots_do_not_lose_their_articles(app: App, clock: FixedClock) -> None:
    compose(
        app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock
    )  # empty first edition
    add_dated_article(app, "During the outage", SLOT + timedelta(days=2))
    clock.set(SLOT + 2 * WEEK + timedelta(hours=1))
    skipped = record_skipped(
        app.engine,
        app.settings.digest("weekly"),
        SLOT + WEEK,
        "missed by more than 6:00:00",
        clock=app.clock,
    )
    assert skipped.status == "skipped" and skipped.reason.startswith("missed")
    assert (
        record_skipped(
            app.engine, app.settings.digest("weekly"), SLOT + WEEK, "again", clock=app.clock
        ).id
        == skipped.id
    )

    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)

    assert edition.slot == SLOT + 2 * WEEK
    assert titles_of(app, edition.id) == ["During the outage"]


def test_empty_period_is_stored_as_empty_and_not_rendered(app: App) -> None:
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert edition.status == "empty"
    assert edition.html == "" and edition.article_count == 0
    assert edition.reason == "no new articles in the period"


def test_skip_empty_false_composes_an_edition_saying_so(app: App) -> None:
    edition = compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock)
    assert edition.status == "composed"
    assert "No new articles" in edition.html and "No new articles" in edition.text


def test_max_articles_keeps_the_newest_and_counts_the_rest(app: App) -> None:
    for day in range(1, 6):
        add_dated_article(app, f"Day {day}", SLOT - timedelta(days=day))
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert titles_of(app, edition.id) == ["Day 1", "Day 2", "Day 3"]
    assert edition.more_count == 2
    assert "And 2 more on Test News" in edition.html
    assert "And 2 more on Test News: https://news.example.org/" in edition.text


def test_digest_draws_on_its_tags_only(app: App, clock: FixedClock) -> None:
    daily_slot = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 03:30 Kyiv
    add_dated_article(app, "Trams", daily_slot - timedelta(hours=3), tags=("transit",))
    add_dated_article(app, "Theatre", daily_slot - timedelta(hours=2), tags=("culture",))
    edition = compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock)
    assert edition.slot == daily_slot
    assert titles_of(app, edition.id) == ["Trams"]


def test_an_article_is_never_in_two_editions_of_one_digest(app: App) -> None:
    article_id = add_dated_article(app, "Once", SLOT - timedelta(days=1))
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        other = conn.execute(
            insert(editions)
            .values(
                digest="weekly",
                period="2026-03-09T06:00:00Z",
                period_start=SLOT,
                period_end=SLOT + WEEK,
                status="composed",
                created_at=SLOT,
            )
            .returning(editions.c.id)
        ).scalar_one()
        conn.execute(
            insert(edition_articles).values(
                edition_id=other, article_id=article_id, digest="weekly", position=0
            )
        )
    assert edition.article_ids == (article_id,)


def test_dst_spring_forward_day_composes_once_after_the_gap(app: App, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 28, 2, tzinfo=UTC))
    before = compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock)
    add_dated_article(app, "Gap day", datetime(2026, 3, 28, 20, tzinfo=UTC), tags=("transit",))
    clock.set(datetime(2026, 3, 29, 3, tzinfo=UTC))
    gap = compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock)
    assert gap.slot == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 04:30 EEST
    assert gap.period_start == before.period_end
    assert titles_of(app, gap.id) == ["Gap day"]
    assert (
        compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock).id
        == gap.id
    )


def test_dst_fall_back_night_has_one_edition(app: App, clock: FixedClock) -> None:
    clock.set(datetime(2026, 10, 24, 23, tzinfo=UTC))
    compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock)
    clock.set(datetime(2026, 10, 25, 3, tzinfo=UTC))  # after both 03:30s
    fall = compose(app.engine, app.settings, app.settings.digest("daily"), clock=app.clock)
    assert fall.slot == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with app.engine.connect() as conn:
        periods = conn.execute(
            select(editions.c.period).where(editions.c.digest == "daily")
        ).scalars()
        assert sorted(periods) == ["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"]


def test_future_slot_is_refused(app: App) -> None:
    with pytest.raises(DigestError, match="future"):
        compose(
            app.engine,
            app.settings,
            app.settings.digest("weekly"),
            clock=app.clock,
            slot=SLOT + WEEK,
        )


def test_template_syntax_and_percent_in_articles_come_through_as_text(app: App) -> None:
    add_dated_article(
        app,
        "Fares {{ up }} 100%",
        SLOT - timedelta(days=1),
        summary="Use {% raw %} and {# not a comment #} and %recipient.name% as text.",
    )
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert "Fares {{ up }} 100%" in edition.html
    assert "{% raw %}" in edition.html and "%recipient.name%" in edition.html
    assert "Fares {{ up }} 100%" in edition.text
    assert "{# not a comment #}" in edition.text


def test_premailer_only_ever_sees_rendered_html(app: App) -> None:
    add_dated_article(
        app, "Plain title", SLOT - timedelta(days=1), image_url="https://cdn.example.org/a.jpg"
    )
    rendered = render_edition(app.settings, app.settings.digest("weekly"), [], slot=SLOT)
    edition = compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    for html in (rendered.html, edition.html):
        assert "{{" not in html and "{%" not in html and "{#" not in html
        assert 'href="@@unsubscribe_url@@"' in html
        assert 'href="@@preferences_url@@"' in html
        assert "@media only screen and (max-width: 620px)" in html  # @media kept
        assert "prefers-color-scheme: dark" in html
        assert "!important" in html  # not stripped
    assert 'style="' in edition.html  # inlined
    assert 'alt="Plain title"' in edition.html and 'width="552"' in edition.html
    assert "https://news.example.org/digests/weekly/2026-03-02" in edition.html


def test_a_template_that_fails_the_presend_check_stores_nothing(
    app: App, tmp_path, settings
) -> None:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "digest.html").write_text(
        "<html><body>{% for a in articles %}<a href='/{{ a.title }}'>x</a>{% endfor %}"
        "</body></html>"
    )
    add_dated_article(app, "Relative", SLOT - timedelta(days=1))
    with pytest.raises(DigestError, match="pre-send check") as failure:
        compose(app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock)
    assert "relative link" in failure.value.message
    assert "no unsubscribe link" in failure.value.message
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 0


def test_two_composers_at_once_store_one_edition(app: App, settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    for day in range(1, 4):
        add_dated_article(app, f"Day {day}", SLOT - timedelta(days=day))
    other = App(settings, clock=app.clock)  # a second process: its own engine
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(
                pool.map(
                    lambda a: compose(
                        a.engine, a.settings, a.settings.digest("weekly"), clock=a.clock
                    ),
                    [app, other, app, other],
                )
            )
    finally:
        other.close()
    assert len({edition.id for edition in results}) == 1
    assert sum(edition.created for edition in results) == 1
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(edition_articles)).scalar_one() == 3
