"""``syndicate check`` builds what a run builds and reports each check by name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from syndicate.cli import main
from tests.support import EXAMPLES, head_revision, write_config

SITE = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "weekly"
title = "Weekly"
feed = "all"
schedule = "0 8 * * MON"
lookback = "3650d"
"""


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def site(tmp_path: Path) -> Path:
    config = write_config(tmp_path, "sqlite:///s.db", SITE)
    code, output = run(config, "import", str(EXAMPLES))
    assert code == 0, output
    return config


def test_a_clean_site_reports_each_check_it_ran(site: Path) -> None:
    code, output = run(site, "check")
    assert code == 0, output
    names = [line.split()[1] for line in output.splitlines() if line[:4] in ("ok  ", "warn")]
    assert names[:4] == ["config", "site", "database", "templates"]
    assert {"mailer", "feeds", "digest", "built"} <= set(names)
    assert f"at revision {head_revision()}" in output and "every template parses" in output
    assert "entries" in output and "'Weekly: " in output
    assert output.splitlines()[-1].startswith(f"{site}: ok, ")


def test_json_report(site: Path) -> None:
    code, output = run(site, "check", "--json")
    assert code == 0
    report = json.loads(output)
    assert report["ok"] is True
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["digest weekly"]["status"] == "ok"
    assert by_name["feeds"]["status"] == "ok" and "entries" in by_name["feeds"]["detail"]
    # the test config keeps example.org values: a warning, not a failure
    assert by_name["site values"]["status"] == "warning"
    assert (
        "site.url = 'https://news.example.org/' is an example value; set your own"
        in (by_name["site values"]["problems"])
    )


def test_json_report_of_an_invalid_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///s.db", SITE.replace("schedule =", "schedul ="))
    code, output = run(config, "check", "--json")
    assert code == 1
    [only] = json.loads(output)["checks"]
    assert only["status"] == "failed"
    assert "digests[0].schedul: unknown key; did you mean 'schedule'?" in only["problems"]


@pytest.mark.parametrize(
    ("typo", "said"),
    [
        (('from = "Test', 'form = "Test'), "mail.form: unknown key; did you mean 'from'?"),
        (('path = "all"', 'paht = "all"'), "feeds[0].paht: unknown key; did you mean 'path'?"),
        (("[web]", "[web]\nlisen = 1"), "web.lisen: unknown key; did you mean 'listen'?"),
        (("[site]", "[site]\nzzz = 1"), "site.zzz: unknown key (see docs/configuration.md)"),
    ],
)
def test_a_typo_gets_the_nearest_key(tmp_path: Path, typo: tuple[str, str], said: str) -> None:
    config = write_config(tmp_path, "sqlite:///s.db", SITE)
    config.write_text(config.read_text().replace(*typo, 1), encoding="utf-8")
    code, output = run(config, "check")
    assert code == 1 and said in output


def test_a_broken_built_feed_names_the_file_not_the_config(site: Path) -> None:
    assert run(site, "feeds", "build")[0] == 0
    rss = site.parent / "feeds" / "all" / "rss.xml"
    rss.write_bytes(rss.read_bytes().replace(b"</channel>", b"</chanel>"))
    code, output = run(site, "check")
    assert code == 1
    assert f"{rss}: " in output
    assert "error: 1 of " in output and "checks failed: built feeds" in output
    assert "fix the keys" not in output and "problem(s) in the configuration" not in output
    assert "ok   feeds" in output  # a fresh build from the store is fine


def test_dkim_configured_without_dkimpy_fails_the_check(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = site.parent / "dkim.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    site.write_text(
        site.read_text().replace(
            'maildir = "outbox"',
            'maildir = "outbox"\n[mail.dkim]\ndomain = "news.example.org"\n'
            'selector = "s1"\nprivate_key_file = "dkim.pem"',
        ),
        encoding="utf-8",
    )
    code, output = run(site, "check")
    assert code == 0, output
    assert "ok   dkim" in output and str(pem) in output

    # as on a machine where the [dkim] extra was not installed
    monkeypatch.setitem(sys.modules, "dkim", None)
    monkeypatch.setitem(sys.modules, "dkim.crypto", None)
    code, output = run(site, "check")
    assert code == 1
    assert "mail.dkim is set but dkimpy is not installed" in output
    assert "checks failed: dkim" in output


def test_an_unusable_store_fails_and_skips_what_needs_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///gone/s.db", SITE)
    code, output = run(config, "check")
    assert code == 1
    assert "FAIL database" in output and "does not exist" in output
    assert "skip feeds" in output and "skip digest weekly" in output
