"""Config loading: every problem reported with its key path, docs list every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.core.config import load_settings, parse_duration, secret
from syndicate.core.configdoc import keys, render
from syndicate.core.errors import ConfigError
from tests.support import REPO, write_config


def test_example_config_is_valid() -> None:
    settings = load_settings(REPO / "config.toml")
    assert settings.site.url == "https://news.example.org/"
    assert settings.digests[0].name == "weekly"
    assert settings.feeds_dir == REPO / "feeds"
    assert settings.database_url == f"sqlite:///{REPO / 'syndicate.db'}"


def test_every_problem_is_listed_with_its_key_path(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "sqlite:///x.db",
        """
[[feeds]]
name = "all"
path = "all"
formts = ["rss"]

[[digests]]
name = "weekly"
title = "Weekly"
schedule = "0 8 * * MONX"
timezone = "Europe/Nowhere"
feed = "missing"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    problems = caught.value.problems
    assert (
        'digests[0].schedule: "0 8 * * MONX" is not a cron expression'.replace('"', "'") in problems
    )
    assert any(p.startswith("feeds[0].formts: unknown key") for p in problems)
    assert any(p.startswith("digests[0].timezone:") and "IANA" in p for p in problems)
    assert len(problems) == 3  # the cross-check waits until the fields are valid


def test_cross_checks_name_the_key(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "sqlite:///x.db",
        '[[digests]]\nname = "weekly"\ntitle = "W"\nschedule = "0 8 * * MON"\nfeed = "nope"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert any("digests[0].feed: no feed named 'nope'" in p for p in caught.value.problems)


def test_missing_required_key_and_bad_url(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[site]\ntitle = "x"\nurl = "news.example.org"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    problems = caught.value.problems
    assert "mail: required key is missing" in problems
    assert any(p.startswith("site.url:") and "absolute" in p for p in problems)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[site]\ntitle = "x\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 2"):
        load_settings(path)


def test_cli_reports_missing_config_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "check"])
    assert result.exit_code == 1
    assert f"no config file at {tmp_path / 'nope.toml'}" in result.output
    assert "syndicate init" in result.output
    assert "Traceback" not in result.output


def test_cli_check_lists_every_problem_without_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db", "[schedule]\nfeeds = 'often'\nfoo = 1\n")
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert "schedule.feeds: 'often' is not a cron expression" in result.output
    assert "schedule.foo: unknown key" in result.output
    assert "Traceback" not in result.output


def test_secrets_come_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    assert secret("SMTP_PASSWORD", key="mail.smtp.password_env") == "s3cret"
    monkeypatch.delenv("SMTP_PASSWORD")
    with pytest.raises(
        ConfigError, match=r"mail.smtp.password_env: environment variable SMTP_PASSWORD"
    ):
        secret("SMTP_PASSWORD", key="mail.smtp.password_env")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400), ("6h", 21600), ("7d", 604800), ("2w", 1209600), (30, 30)]
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_bad_duration_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_every_key_is_documented() -> None:
    """docs/configuration.md is generated from the models; regenerate when a key changes."""
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", page, flags=re.M))
    declared = {path for path, _ in keys() if "." in path}
    assert declared - documented == set(), (
        "run: python -m syndicate.core.configdoc > docs/configuration.md"
    )
    assert page == render(), (
        "docs/configuration.md is stale: python -m syndicate.core.configdoc > docs/configuration.md"
    )


def test_every_key_has_a_description() -> None:
    assert [path for path, field in keys() if not field.description] == []
