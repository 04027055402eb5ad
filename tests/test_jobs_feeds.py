"""The feeds job: build, then publish (every time, or only after a change)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.core.clock import FixedClock
from syndicate.service.context import App
from syndicate.service.jobs import build_and_publish
from tests.support.digests import add_dated_article


@pytest.fixture
def config_extra(tmp_path: Path) -> str:
    return f"""
[[feeds]]
name = "all"
path = "all"

[[hosts]]
name = "site"
type = "directory"
path = "{tmp_path / "public"}"
"""


def test_publish_follows_a_build_that_changed_something(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    add_dated_article(app, "Tram line 4 reopens", clock.now() - timedelta(days=1))
    first = build_and_publish(app, only_if_changed=True)
    assert first["build_files_written"] > 0 and first["push_uploaded"] > 0
    assert (tmp_path / "public" / "all" / "rss.xml").is_file()

    second = build_and_publish(app, only_if_changed=True)
    assert second["build_files_written"] == 0
    assert not any(key.startswith("push_") for key in second)  # nothing to publish

    add_dated_article(app, "Night buses extended", clock.now() - timedelta(hours=1))
    third = build_and_publish(app, only_if_changed=True)
    assert third["push_uploaded"] >= 3  # the live feeds changed, and only they were sent
    assert b"Night buses extended" in (tmp_path / "public" / "all" / "rss.xml").read_bytes()


def test_without_the_option_publish_always_runs_and_uploads_nothing_new(
    app: App, clock: FixedClock
) -> None:
    add_dated_article(app, "Tram line 4 reopens", clock.now() - timedelta(days=1))
    build_and_publish(app)
    again = build_and_publish(app)
    assert again["push_uploaded"] == 0 and again["push_skipped"] > 0
