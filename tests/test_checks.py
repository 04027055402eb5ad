"""``syndicate check`` finds what would fail later: secrets, templates, host URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.core.config import load_settings
from syndicate.service.checks import all_problems
from tests.support import write_config

EXTRA = """
[[feeds]]
name = "all"
path = "all"

[[hosts]]
name = "mirror"
type = "sftp"
host = "feeds.example.net"
username = "feeds"
password_env = "MIRROR_PASSWORD"
url = "https://mirror.example.net/feeds/"

[[digests]]
name = "weekly"
title = "Weekly"
schedule = "0 8 * * MON"
html_template = "missing.html"
"""


def test_check_lists_every_problem_it_can_find_before_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIRROR_PASSWORD", raising=False)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "digest.txt").write_text("{% if %}\n", encoding="utf-8")
    settings = load_settings(write_config(tmp_path, "sqlite:///s.db", EXTRA))
    problems = all_problems(settings)
    template = tmp_path / "templates" / "digest.txt"
    assert any(p.startswith(f"{template}:1:") for p in problems)  # the file to open
    assert "digests[0].html_template: no template named 'missing.html'" in problems
    assert "hosts[0].password_env: environment variable MIRROR_PASSWORD is not set" in problems
    assert any(
        p.startswith("hosts[0].url: https://mirror.example.net/feeds/ differs") for p in problems
    )
    monkeypatch.setenv("MIRROR_PASSWORD", "x")
    assert not any("MIRROR_PASSWORD" in p for p in all_problems(settings))
