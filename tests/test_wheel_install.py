"""From the built wheel to a first feed and digest, as a new operator does it.

Builds the wheel, installs it (dependencies resolved by pip) into a fresh venv
outside the source tree, then in an empty folder: init (no prompts), new, import,
check, build, preview, and run --once delivering to a Maildir.
"""

from __future__ import annotations

import mailbox
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import feedparser
import pytest

from tests.support import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def sh(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def last_monday_8(now: datetime) -> datetime:
    slot = (now - timedelta(days=now.weekday())).replace(hour=8, minute=0, second=0, microsecond=0)
    return slot if slot <= now else slot - timedelta(days=7)


def test_the_wheel_installs_and_runs_a_site_from_an_empty_folder(tmp_path: Path) -> None:
    dist, venv, site = tmp_path / "dist", tmp_path / "venv", tmp_path / "site"
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, REPO, cwd=tmp_path)
    [wheel] = dist.glob("syndicate_feeds-*.whl")
    sh(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    sh(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path)
    where = sh(
        venv / "bin" / "python", "-c", "import syndicate; print(syndicate.__file__)", cwd=tmp_path
    )
    assert where.strip().startswith(str(venv)) and str(REPO) not in where
    spoken = sh(
        venv / "bin" / "python",
        "-c",
        "from syndicate.core.i18n import languages, translator;"
        "print(languages(), translator('uk').gettext('Subscribe'))",
        cwd=tmp_path,
    )
    assert spoken.strip() == "('de', 'en', 'uk') Підписатися"  # the wheel ships the catalogs

    site.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}

    def syndicate(*args: str) -> str:
        return sh("syndicate", *args, cwd=site, env=env)

    syndicate(
        "init", "--title", "Harbour Notes", "--url", "https://harbour-notes.net/",
        "--timezone", "UTC", "--from", "Harbour Notes <news@harbour-notes.net>",
    )  # fmt: skip
    config = (site / "config.toml").read_text(encoding="utf-8")
    assert "Example News" not in config and 'lookback = "7d"' in config
    assert not (site / "templates").exists()

    out = syndicate("new", "Ferry timetable changes")
    article = site / "articles" / "ferry-timetable-changes.md"
    assert f"wrote {article}" in out
    # dated before this week's digest slot, so the first edition carries it
    published = last_monday_8(datetime.now(UTC)) - timedelta(hours=2)
    text = article.read_text(encoding="utf-8")
    text = "\n".join(
        f"date: '{published.isoformat()}'" if line.startswith("date:") else line
        for line in text.splitlines()
    )
    article.write_text(text + "\nThe winter timetable starts on Monday.\n", encoding="utf-8")
    assert "1 imported" in syndicate("import", "articles")

    checked = syndicate("check")
    assert "warn" not in checked and "ok, " in checked.splitlines()[-1]
    assert "file(s) written" in syndicate("feeds", "build")
    syndicate("subscribers", "add", "ada@harbour-notes.net", "--name", "Ada")
    preview = syndicate("digest", "preview", "weekly", "--text")
    assert "Ferry timetable changes" in preview and "=E2=80" not in preview
    syndicate("run", "--once")

    rss = feedparser.parse((site / "feeds" / "all" / "rss.xml").read_bytes())
    assert rss.feed.title == "Harbour Notes"
    assert [e.title for e in rss.entries] == ["Ferry timetable changes"]
    assert rss.entries[0].link == "https://harbour-notes.net/ferry-timetable-changes/"

    box = mailbox.Maildir(site / "outbox", create=False)
    [raw] = [box.get_bytes(key) for key in box.iterkeys()]
    message = message_from_bytes(raw, policy=default_policy)
    assert message["From"] == "Harbour Notes <news@harbour-notes.net>"
    assert message["To"] == "Ada <ada@harbour-notes.net>"
    assert message["Subject"].startswith("Harbour Notes weekly: ")
    assert "Ferry timetable changes" in message.get_body(("plain",)).get_content()

    status = syndicate("status")
    assert "never" not in status.split("housekeeping")[0]  # feeds and digest ran
