"""The whole path on the example config, as an operator runs it: articles -> feeds ->
a digest in the Maildir; a second run sends nothing twice."""

from __future__ import annotations

import email
import json
import mailbox
import subprocess
import sys
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import create_engine, func, select

from syndicate.core.db import editions
from syndicate.feeds.files import media_type
from tests.support import EXAMPLES, REPO


def syndicate(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"syndicate {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def example_site(tmp_path: Path, store_url: str) -> Path:
    """The repository's config.toml, unchanged but for the database, in a fresh folder."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    assert 'url = "sqlite:///syndicate.db"' in text
    config = tmp_path / "config.toml"
    config.write_text(
        text.replace('url = "sqlite:///syndicate.db"', f'url = "{store_url}"'), encoding="utf-8"
    )
    return config


def _messages(site: Path) -> list[Message]:
    box = mailbox.Maildir(site / "outbox", create=False)
    return [
        email.message_from_bytes(box.get_bytes(key), policy=default_policy)
        for key in box.iterkeys()
    ]


def test_run_once_publishes_feeds_and_delivers_one_digest_per_subscriber(
    example_site: Path, store_url: str
) -> None:
    site = example_site.parent
    syndicate(example_site, "import", str(EXAMPLES))
    syndicate(
        example_site,
        "subscribers",
        "add",
        "reader@example.org",
        "--name",
        "Example Reader",
        "--digest",
        "weekly",
    )
    syndicate(example_site, "subscribers", "add", "second@example.org", "--digest", "weekly")
    syndicate(example_site, "run", "--once")

    article_count = len([p for p in EXAMPLES.iterdir() if p.is_file()])
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(
            (site / "feeds" / "all" / name).read_bytes(),
            response_headers={"content-type": media_type(name)},
        )
        assert not parsed.bozo, f"{name}: {parsed.get('bozo_exception')}"
        assert len(parsed.entries) == article_count
        assert all(
            entry.get("id") and entry.get("link", "").startswith("https://")
            for entry in parsed.entries
        )
    jsonfeed = json.loads((site / "feeds" / "all" / "feed.json").read_text(encoding="utf-8"))
    assert (
        jsonfeed["version"] == "https://jsonfeed.org/version/1.1"
    )  # feedparser 6 has no JSON Feed
    assert len({item["id"] for item in jsonfeed["items"]}) == article_count
    assert "ok" in syndicate(example_site, "check").stdout  # config, templates, feed lint
    assert (
        site / "public" / "feeds" / "all" / "rss.xml"
    ).is_file()  # published to the directory host

    messages = _messages(site)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "reader@example.org",
        "second@example.org",
    ]
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        text_part, html_part = message.get_payload()
        assert text_part.get_content_type() == "text/plain"
        assert html_part.get_content_type() == "text/html"
        html = html_part.get_content()
        assert 'style="' in html  # CSS inlined
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"]
        unsubscribe = message["List-Unsubscribe"]
        assert "https://" in unsubscribe or "http://" in unsubscribe
    tokens = [m["List-Unsubscribe"] for m in messages]
    assert tokens[0] != tokens[1]  # each reader's own link

    # A second run finds nothing new to do: no second edition, no second email.
    syndicate(example_site, "run", "--once")
    assert len(_messages(site)) == 2
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 1
    finally:
        engine.dispose()


def test_status_reports_jobs_and_queue_as_json(example_site: Path) -> None:
    syndicate(example_site, "import", str(EXAMPLES))
    syndicate(example_site, "subscribers", "add", "reader@example.org", "--digest", "weekly")
    syndicate(example_site, "run", "--once")
    report = json.loads(syndicate(example_site, "status", "--json").stdout)
    jobs = {job["job"]: job for job in report["jobs"]}
    assert set(jobs) >= {"feeds", "housekeeping", "digest:weekly"}
    assert jobs["digest:weekly"]["next_run"] > report["now"]
    assert jobs["digest:weekly"]["last"]["status"] in ("ok", "skipped")
    (edition,) = report["editions"]
    assert edition["digest"] == "weekly" and edition["counts"]["sent"] == 1
    assert sum(edition["counts"].values()) == 1
    table = syndicate(example_site, "status").stdout
    assert "digest:weekly" in table and "Outbox: sent 1" in table
    assert "Editions" in table and "weekly" in table


def test_json_logs_carry_one_line_per_job_with_its_counts(example_site: Path) -> None:
    syndicate(example_site, "import", str(EXAMPLES))
    result = syndicate(example_site, "--log-format", "json", "run", "--once")
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    jobs = {r["job"]: r for r in records if "job" in r}
    assert jobs["feeds"]["status"] == "ok"
    assert jobs["feeds"]["counts"]["build_files_written"] > 0
    assert all(r["level"] in ("info", "warning", "error") and r["time"] for r in records)
