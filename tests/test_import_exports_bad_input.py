"""Broken exports: one clear line naming the file and the fault, the other entries and
files still imported, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from syndicate.cli import main
from tests.test_import_exports import GHOST, WXR


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


def stored_titles(config_file: Path) -> list[str]:
    result = run(config_file, "articles", "list", "--json")
    assert result.exit_code == 0, result.output
    return sorted(article["title"] for article in json.loads(result.output))


def failed_lines(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("failed:")]


def test_wxr_cut_in_half_keeps_the_posts_before_the_cut(config_file: Path, tmp_path: Path) -> None:
    data = WXR.read_bytes()
    cut = tmp_path / "export.xml"
    cut.write_bytes(data[: data.index(b"Half-written notes")])  # inside the third item
    good = tmp_path / "extra.md"
    good.write_text("# An extra note\n\nStill imported.\n", encoding="utf-8")
    result = run(config_file, "import", str(cut), str(good))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = failed_lines(result)
    assert line.startswith(f"failed: {cut}: line ")
    assert "ends in the middle of the export (cut short?)" in line
    assert "3 imported" in result.stdout
    assert stored_titles(config_file) == [
        "An extra note",
        "Harbour wall repairs begin",
        "The winter ferry timetable",
    ]


def test_wxr_broken_in_the_middle_names_the_line(config_file: Path, tmp_path: Path) -> None:
    broken = tmp_path / "export.xml"
    text = WXR.read_text(encoding="utf-8")
    broken.write_text(text.replace("<wp:post_id>70</wp:post_id>", "<wp:post_id>70</wp:postid>"))
    result = run(config_file, "import", str(broken))
    assert result.exit_code == 1
    [line] = failed_lines(result)
    assert "broken XML" in line and ": line " in line
    assert "The winter ferry timetable" in stored_titles(config_file)


def test_ghost_json_of_the_wrong_shape_is_one_line(config_file: Path, tmp_path: Path) -> None:
    shapes = {
        "posts-object.json": {"db": [{"meta": {"exported_on": 1}, "data": {"posts": {"a": 1}}}]},
        "no-data.json": {"db": [{"meta": {"exported_on": 1}}]},
        "tags-object.json": {
            "db": [{"meta": {"exported_on": 1}, "data": {"posts": [], "tags": {"x": 1}}}]
        },
    }
    for name, document in shapes.items():
        (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "note.md").write_text("# A note\n\nKept.\n", encoding="utf-8")
    result = run(config_file, "import", str(tmp_path))
    assert result.exit_code == 1
    lines = failed_lines(result)
    assert len(lines) == 3
    assert any("posts-object.json: not a Ghost export: data.posts" in ln for ln in lines)
    assert any("no-data.json: not a Ghost export" in ln for ln in lines)
    assert any(
        "tags-object.json: not a Ghost export: data.tags is not a list" in ln for ln in lines
    )
    assert stored_titles(config_file) == ["A note"]


def test_ghost_json_cut_short_and_a_post_without_html(config_file: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_bytes(GHOST.read_bytes()[:3000])
    document = json.loads(GHOST.read_text(encoding="utf-8"))
    document["db"][0]["data"]["posts"][3]["html"] = None  # mobiledoc-only post
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(document), encoding="utf-8")
    result = run(config_file, "import", str(cut), str(partial))
    assert result.exit_code == 1
    lines = failed_lines(result)
    assert len(lines) == 2
    assert any(f"{cut}:1: broken JSON" in ln for ln in lines)
    assert any("post knife-skills-2: the post has no HTML" in ln for ln in lines)
    assert stored_titles(config_file) == ["Sourdough for beginners"]


def test_substack_listing_without_title_column(config_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "substack"
    (folder / "posts").mkdir(parents=True)
    (folder / "posts.csv").write_text("post_id,post_date,is_published\n1.a,2026-01-01,true\n")
    result = run(config_file, "import", str(folder))
    assert result.exit_code == 1
    [line] = failed_lines(result)
    assert line == f"failed: {folder / 'posts.csv'}: not a Substack posts.csv: no title column"


def test_a_json_file_that_is_no_export_is_named(config_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "x"}', encoding="utf-8")
    result = run(config_file, "import", str(other))
    assert result.exit_code == 1
    [line] = failed_lines(result)
    assert "package.json: not an article file, nor a WordPress (WXR)" in line


def test_dry_run_of_an_export_stores_nothing(config_file: Path) -> None:
    result = run(config_file, "import", "--dry-run", str(WXR))
    assert result.exit_code == 0, result.output
    assert "dry run (nothing stored): 4 skipped, 3 would-import" in result.stdout
    assert stored_titles(config_file) == []
