"""Podcast feeds: audio front matter -> enclosures with exact lengths and the iTunes tags
Apple requires; bad audio front matter and bad podcast settings fail naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicate.core.config import load_settings
from syndicate.core.errors import ConfigError
from syndicate.feeds import build_feeds
from syndicate.feeds.lint import lint_file, lint_tree
from syndicate.feeds.podcast import format_duration
from syndicate.intake.importers import import_paths
from syndicate.intake.importers.audio import parse_duration
from syndicate.service.context import App
from tests.support import write_config

PODCAST_CONFIG = """
[[feeds]]
name = "show"
path = "show"
title = "Test News podcast"
description = "Our weekly audio edition."
tags = ["episode"]
podcast = true
podcast_image = "/media/show-artwork.png"
podcast_category = "News > Daily News"
podcast_explicit = false
"""
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"

EPISODE = """---
title: "Episode {n}: the tram timetable"
date: 2026-02-0{n} 09:00
author: Olena Marchenko
tags: [episode]
audio:
  url: /media/episode-{n}.mp3
  length: {length}
  type: audio/mpeg
  duration: "{duration}"
---

This week we ride line {n} from end to end and ask the drivers about the timetable.
"""


@pytest.fixture
def config_extra() -> str:
    return PODCAST_CONFIG


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_podcast_feed_carries_itunes_tags_and_exact_enclosure_lengths(
    app: App, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    _write(folder, "e1.md", EPISODE.format(n=1, length=12_345_678, duration="1:02:03"))
    _write(folder, "e2.md", EPISODE.format(n=2, length=987_654_321, duration="45:07"))
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[folder])
    assert report.counts.get("failed", 0) == 0, [o.to_dict() for o in report.outcomes]

    build_feeds(app.engine, app.settings, clock=app.clock)
    assert [p for lines in lint_tree(app.settings).values() for p in lines] == []
    data = (app.settings.feeds_dir / "show/rss.xml").read_bytes()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    feed = parsed.feed
    assert "itunes_explicit" in feed and not feed.itunes_explicit  # read as "not explicit"
    assert feed.image.href == "https://news.example.org/media/show-artwork.png"
    assert feed.author_detail.name == "Desk"
    assert [t.term for t in feed.tags] == ["News", "Daily News"]

    by_title = {e.title: e for e in parsed.entries}
    first, second = (
        by_title["Episode 1: the tram timetable"],
        by_title["Episode 2: the tram timetable"],
    )
    assert first.itunes_duration == "01:02:03"
    assert second.itunes_duration == "00:45:07"
    (enclosure,) = first.enclosures
    assert enclosure.href == "https://news.example.org/media/episode-1.mp3"
    assert enclosure.type == "audio/mpeg"
    assert int(enclosure.length) == 12_345_678
    assert int(second.enclosures[0].length) == 987_654_321

    # The channel tags Apple reads, in the namespace it reads them from.
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    assert channel.find(f"{ITUNES}image").get("href").endswith("show-artwork.png")
    category = channel.find(f"{ITUNES}category")
    assert category.get("text") == "News"
    assert category.find(f"{ITUNES}category").get("text") == "Daily News"
    assert channel.findtext(f"{ITUNES}explicit") == "false"
    assert channel.findtext(f"{ITUNES}author") == "Desk"
    assert channel.find(f"{ITUNES}owner").findtext(f"{ITUNES}email") == "desk@news.example.org"

    # JSON Feed carries the same attachment with its size and duration.
    items = json.loads((app.settings.feeds_dir / "show/feed.json").read_text(encoding="utf-8"))
    (attachment,) = next(i for i in items["items"] if "Episode 1" in i["title"])["attachments"]
    assert attachment["size_in_bytes"] == 12_345_678
    assert attachment["duration_in_seconds"] == 3723


def test_feedlint_refuses_a_podcast_without_lengths_or_with_a_made_up_category(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "rss.xml"
    bad.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Show</title><link>https://news.example.org/</link>
<description>d</description>
<itunes:image href="https://news.example.org/art.gif"/>
<itunes:category text="Podcasts about things"/>
<item><title>One</title><guid isPermaLink="false">x1</guid>
<enclosure url="https://news.example.org/1.mp3" length="0" type="audio/mpeg"/>
<itunes:duration>soon</itunes:duration></item>
</channel></rss>""",
        encoding="utf-8",
    )
    problems = "\n".join(lint_file(bad, public_url="https://news.example.org/feeds/rss.xml"))
    assert "itunes:image" in problems and ".jpg or .png" in problems
    assert "'Podcasts about things' is not an Apple Podcasts category" in problems
    assert "itunes:explicit" in problems
    assert "item[1]/enclosure: a podcast episode needs its exact length in bytes" in problems
    assert "item[1]/itunes:duration" in problems


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        ("audio: https://news.example.org/e.mp3", "audio must be a table"),
        ("audio:\n  url: /e.mp3\n  type: audio/mpeg", "audio.length must be the file's exact"),
        ("audio:\n  url: /e.mp3\n  length: -5", "audio.length must be the file's exact"),
        ("audio:\n  url: /e.mp3\n  length: '12 MB'", "audio.length must be the file's exact"),
        ("audio:\n  length: 100", "audio.url must be the URL"),
        ("audio:\n  url: /e.mp3\n  length: 100\n  type: text/html", "audio.type must be an audio"),
        ("audio:\n  url: /e.unknown\n  length: 100", "audio.type must be an audio"),
        ("audio:\n  url: /e.mp3\n  length: 100\n  duration: soon", "audio.duration must be"),
        ("audio:\n  url: /e.mp3\n  length: 100\n  duration: 0", "audio.duration must be"),
        ("audio:\n  url: /e.mp3\n  length: 100\n  bitrate: 128", "audio.bitrate is not a key"),
        ("audio:\n  url: 'javascript:alert(1)'\n  length: 100\n  type: audio/mpeg", "audio.url"),
    ],
)
def test_bad_audio_front_matter_fails_naming_the_file_and_key(
    app: App, tmp_path: Path, audio: str, message: str
) -> None:
    path = _write(
        tmp_path, "episode.md", f"---\ntitle: An episode\n{audio}\n---\n\nThe episode's notes.\n"
    )
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert outcome.error.message.startswith(str(path))
    assert message in outcome.error.message
    assert "Traceback" not in outcome.error.message


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            'podcast_category = "Podcasts"',
            "feeds[0].podcast_category: 'Podcasts' is not an Apple Podcasts category",
        ),
        (
            'podcast_category = "News > Gardening"',
            "feeds[0].podcast_category: 'Gardening' is not a subcategory of 'News'",
        ),
        ('podcast_image = "/art.gif"', "feeds[0].podcast_image: '/art.gif' must be a .jpg or .png"),
        ('podcast_explicit = "maybe"', "feeds[0].podcast_explicit:"),
    ],
)
def test_bad_podcast_settings_name_the_key(tmp_path: Path, lines: str, expected: str) -> None:
    base = PODCAST_CONFIG.replace('podcast_category = "News > Daily News"\n', "")
    base = base.replace('podcast_image = "/media/show-artwork.png"\n', "")
    base = base.replace("podcast_explicit = false\n", "")
    extra = base + 'podcast_image = "/a.png"\npodcast_category = "News"\n'
    key = lines.split(" =")[0]
    extra = "\n".join(line for line in extra.splitlines() if not line.startswith(key)) + "\n"
    config = write_config(tmp_path, "sqlite:///x.db", extra + lines + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_podcast_without_artwork_or_category_is_refused(tmp_path: Path) -> None:
    extra = PODCAST_CONFIG.replace('podcast_image = "/media/show-artwork.png"\n', "")
    config = write_config(tmp_path, "sqlite:///x.db", extra)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert any(
        p.startswith("feeds[0]") and "podcast = true needs podcast_image" in p
        for p in caught.value.problems
    ), caught.value.problems


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(754, 754), ("754", 754), ("12:34", 754), ("1:02:03", 3723), ("00:00:09", 9)],
)
def test_durations_in_every_usual_spelling(given: object, seconds: int) -> None:
    assert parse_duration(given) == seconds
    assert format_duration(seconds).count(":") == 2


@pytest.mark.parametrize("given", ["1:60", "soon", "-5", True, 1.5, "0", 0, 10**9, "1:2:3:4"])
def test_impossible_durations_are_refused(given: object) -> None:
    with pytest.raises(ValueError, match=r"audio\.duration"):
        parse_duration(given)
