"""``syndicate init`` writes the operator's site, not the demo's."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from syndicate.cli import main
from syndicate.core.config import load_settings


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_flags_give_the_site_values(tmp_path: Path) -> None:
    code, output = invoke(
        "init", str(tmp_path), "--title", 'Kyiv "Notes"', "--url", "https://notes.test",
        "--timezone", "America/New_York", "--from", "Desk <desk@notes.test>",
    )  # fmt: skip
    assert code == 0, output
    settings = load_settings(tmp_path / "config.toml")
    assert settings.site.title == 'Kyiv "Notes"'
    assert settings.site.url == "https://notes.test/"
    assert settings.site.timezone == "America/New_York"
    assert settings.mail.from_ == "Desk <desk@notes.test>"
    [digest] = settings.digests
    assert digest.lookback.days == 7  # not the demo's 3650 days
    text = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert "Example News" not in text and "Europe/Kyiv" not in text
    assert not (tmp_path / "templates").exists()


def test_without_flags_or_a_terminal_it_writes_defaults_that_check_warns_about(
    tmp_path: Path,
) -> None:
    site = tmp_path / "my-site"
    code, output = invoke("init", str(site))
    assert code == 0, output
    data = tomllib.loads((site / "config.toml").read_text(encoding="utf-8"))
    assert data["site"]["title"] == "My Site"
    assert data["mail"]["from"] == "My Site <news@example.org>"
    code, output = invoke("--config", str(site / "config.toml"), "check")
    assert code == 0
    assert "warn site values" in output
    assert "site.url = 'https://example.org/' is an example value; set your own" in output


def test_bad_values_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    code, output = invoke("init", str(tmp_path), "--url", "notes.test", "--timezone", "Kyiv")
    assert code == 1
    assert "site.url: 'notes.test' is not an absolute http(s) URL" in output
    assert "site.timezone: 'Kyiv' is not an IANA time zone" in output
    assert "hint: give init valid values" in output
    code, output = invoke("init", str(tmp_path), "--url", "https://n.test/", "--from", "nobody")
    assert code == 1 and "mail.from: 'nobody' is not 'Name <address>'" in output
    assert not (tmp_path / "config.toml").exists()


def test_in_a_terminal_it_asks(tmp_path: Path) -> None:
    """Run under a real pseudo-terminal: init asks for each value the flags do not give."""
    main_fd, tty_fd = os.openpty()
    answers = b"Field Notes\nhttps://field.test/\nAsia/Tokyo\n\n"
    os.write(main_fd, answers)
    process = subprocess.run(
        [sys.executable, "-m", "syndicate", "init", str(tmp_path)],
        stdin=tty_fd,
        capture_output=True,
        timeout=60,
    )
    os.close(tty_fd)
    os.close(main_fd)
    assert process.returncode == 0, process.stderr
    assert b"Site title" in process.stdout and b"Time zone" in process.stdout
    settings = load_settings(tmp_path / "config.toml")
    assert settings.site.title == "Field Notes"
    assert settings.site.url == "https://field.test/"
    assert settings.site.timezone == "Asia/Tokyo"
    assert settings.mail.from_ == "Field Notes <news@field.test>"  # the offered default
