"""The example digest, scored by the real SpamAssassin (Debian package ``spamassassin``).

The example site (config.toml, examples/articles, templates/) must score 0 or less with
SpamAssassin's default rules: no rule may count against it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.digest.spamscore import parse_report
from tests.support import EXAMPLES, example_site, require


def test_the_example_digest_scores_zero_or_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(shutil.which("spamassassin") is not None, "the spamassassin program")
    monkeypatch.setenv("SYNDICATE_SECRET", "a-test-secret-of-sufficient-length-0123")
    config = str(example_site(tmp_path))
    runner = CliRunner()
    imported = runner.invoke(main, ["--config", config, "import", str(EXAMPLES)])
    assert imported.exit_code == 0, imported.output
    # The Monday after the last example article: every example is in the edition.
    args = ["--config", config, "digest", "check", "weekly", "--at", "2026-12-07T09:00"]
    checked = runner.invoke(main, [*args, "--json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["articles"] == 5
    assert report["spam_score"] is not None, report["findings"]
    assert report["spam_score"] <= 0, report["findings"]
    assert [r for r in report["spam_rules"] if r["points"] > 0] == []
    # The other pre-send checks find nothing either.
    assert [f for f in report["findings"] if f["severity"] != "info"] == []


SAMPLE_OUTPUT = """\
Subject: x

Content preview:  Example News weekly

Content analysis details:   (0.7 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
-0.0 NO_RECEIVED            Informational: message has no Received headers
 0.0 HTML_MESSAGE           BODY: HTML included in message
 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML font color similar or identical to
                            background

"""


def test_the_report_table_is_read_with_wrapped_descriptions() -> None:
    report = parse_report(SAMPLE_OUTPUT)
    assert report is not None
    assert (report.score, report.required) == (0.7, 5.0)
    assert report.rules[-1] == (
        "HTML_FONT_LOW_CONTRAST",
        0.7,
        "BODY: HTML font color similar or identical to background",
    )
    assert parse_report("no report here") is None


def test_digest_check_lists_each_problem_with_a_next_step_and_fails_on_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator's template with a shortened link and an image without alt text."""
    monkeypatch.setenv("SYNDICATE_SECRET", "a-test-secret-of-sufficient-length-0123")
    config = str(example_site(tmp_path))
    template = tmp_path / "templates/digest.html"
    html = template.read_text(encoding="utf-8")
    html = html.replace(' alt="{{ article.image_alt }}"', "")
    html = html.replace("</h1>", '</h1><a href="https://bit.ly/3xYzAbC">Our sponsor</a>')
    template.write_text(html, encoding="utf-8")
    # Without spamassassin on PATH the score is reported as not checked.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    runner = CliRunner()
    assert runner.invoke(main, ["--config", config, "import", str(EXAMPLES)]).exit_code == 0
    args = ["--config", config, "digest", "check", "weekly", "--at", "2026-12-07T09:00"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "has no alt text" in result.output
    assert "goes through the URL shortener bit.ly" in result.output
    assert "next: link the destination itself" in result.output
    assert "SpamAssassin is not installed" in result.output
    data = json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    assert data["ok"] is False and data["spam_score"] is None
    by_code = {f["code"]: f for f in data["findings"]}
    assert by_code["missing-alt"]["severity"] == "error"
    assert by_code["url-shortener"]["severity"] == "warning"
    assert by_code["spamassassin-missing"]["severity"] == "info"
