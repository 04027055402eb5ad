"""`syndicate import` and `syndicate articles list|show|remove` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from syndicate.cli import main
from tests.support import EXAMPLES


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


def test_import_examples_then_reimport(config_file: Path) -> None:
    first = run(config_file, "import", str(EXAMPLES))
    assert first.exit_code == 0, first.output
    assert "imported" in first.output
    again = run(config_file, "import", str(EXAMPLES), "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["counts"]["unchanged"] == len(report["files"]) >= 4
    assert report["counts"]["imported"] == 0


def test_failures_are_listed_and_exit_1(config_file: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nBody.\n", encoding="utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: Bad\ndate: someday\n---\nBody\n", encoding="utf-8")
    result = run(config_file, "import", str(good), str(bad))
    assert result.exit_code == 1
    assert "1 imported" in result.output and "1 failed" in result.output
    assert "someday" in result.output  # the reason is shown
    assert "Traceback" not in result.output
    as_json = run(config_file, "import", "--json", str(bad))
    assert as_json.exit_code == 1
    files = json.loads(as_json.stdout)["files"]
    assert files[0]["status"] == "failed" and files[0]["line"] == 3


def test_dry_run_stores_nothing(config_file: Path, tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("# Dry\n\nBody.\n", encoding="utf-8")
    result = run(config_file, "import", "--dry-run", str(article))
    assert result.exit_code == 0
    assert "would-import" in result.output and "dry run" in result.output
    listed = run(config_file, "articles", "list", "--json")
    assert json.loads(listed.output) == []


def test_format_option(config_file: Path, tmp_path: Path) -> None:
    article = tmp_path / "notes.txt"
    article.write_text("# Md Title\n\nSome *emphasis*.\n", encoding="utf-8")
    result = run(config_file, "import", "--format", "md", "--json", str(article))
    assert json.loads(result.output)["files"][0]["slug"] == "md-title"
    shown = json.loads(run(config_file, "articles", "show", "md-title", "--json").output)
    assert shown["content_html"] == "<p>Some <em>emphasis</em>.</p>"
    assert shown["source_format"] == "markdown"


def test_list_show_remove(config_file: Path) -> None:
    assert run(config_file, "import", str(EXAMPLES)).exit_code == 0
    listed = json.loads(run(config_file, "articles", "list", "--json").output)
    slugs = [a["slug"] for a in listed]
    assert slugs[0].startswith("night-buses")  # newest first
    dates = [a["published_at"] for a in listed]
    assert dates == sorted(dates, reverse=True)
    table = run(config_file, "articles", "list")
    assert table.exit_code == 0 and "night-buses" in table.output

    shown = run(config_file, "articles", "show", slugs[0])
    assert shown.exit_code == 0
    assert "Night Buses Return" in shown.output and "uid:" in shown.output
    as_json = json.loads(run(config_file, "articles", "show", slugs[0], "--json").output)
    assert as_json["author_name"] == "Olena Marchenko"
    assert as_json["content_html"].startswith("<blockquote>")

    removed = run(config_file, "articles", "remove", slugs[0])
    assert removed.exit_code == 0 and slugs[0] in removed.output
    missing = run(config_file, "articles", "show", slugs[0])
    assert missing.exit_code == 1
    assert "no article" in missing.output and "Traceback" not in missing.output
    assert run(config_file, "articles", "remove", slugs[0]).exit_code == 1


def test_progress_bar_for_many_files_does_not_break_output(
    config_file: Path, tmp_path: Path
) -> None:
    for number in range(8):
        (tmp_path / f"n{number}.md").write_text(f"# Note {number}\n\nBody.\n", encoding="utf-8")
    result = run(config_file, "import", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "8 imported" in result.output
