"""``syndicate new`` and finding config.toml: $SYNDICATE_CONFIG, then the current folder
and its parents, with an error that says where it looked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.core.configfind import find_config
from tests.support import write_config


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_new_writes_an_article_that_imports(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///s.db")
    title = 'Budget: the "second" reading — what changed'
    code, output = invoke("--config", str(config), "new", title, "--tag", "city", "--tag", "budget")
    assert code == 0, output
    path = tmp_path / "articles" / "budget-the-second-reading-what-changed.md"
    assert f"wrote {path}" in output
    front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
    assert front["title"] == title and front["tags"] == ["city", "budget"]
    assert front["date"].endswith("+02:00") or front["date"].endswith("+03:00")  # Europe/Kyiv

    code, output = invoke("--config", str(config), "new", title)  # never overwrites
    assert code == 1 and f"{path} already exists" in output

    path.write_text(path.read_text(encoding="utf-8") + "The council voted.\n", encoding="utf-8")
    code, output = invoke("--config", str(config), "import", str(tmp_path / "articles"))
    assert code == 0 and "1 imported" in output
    code, output = invoke("--config", str(config), "articles", "list", "--json")
    [article] = json.loads(output)
    assert article["title"] == title


def test_a_config_in_a_parent_folder_is_found(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///s.db")
    deep = tmp_path / "articles" / "2026"
    deep.mkdir(parents=True)
    found = find_config(None, cwd=deep, environ={})
    assert found.found and found.path == tmp_path / "config.toml"
    # as a user runs it: from a sub-folder, without --config
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "new", "From below"],
        cwd=deep,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "articles" / "from-below.md").is_file()  # paths resolve at the config


def test_syndicate_config_wins_over_the_search(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_config(tmp_path / "a", "sqlite:///s.db")
    chosen = write_config(tmp_path / "b", "sqlite:///s.db")
    found = find_config(None, cwd=tmp_path / "a", environ={"SYNDICATE_CONFIG": str(chosen)})
    assert found.path == chosen
    assert find_config("x.toml", cwd=tmp_path / "a", environ={}).path == Path("x.toml")


def test_no_config_anywhere_says_where_it_looked(tmp_path: Path) -> None:
    empty = tmp_path / "site" / "drafts"
    empty.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "status"],
        cwd=empty,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert f"error: no config.toml found: looked in {empty}, {empty.parent}, " in result.stderr
    assert "$SYNDICATE_CONFIG were not given" in result.stderr
    assert "hint: run `syndicate init` to create one" in result.stderr
    assert "Traceback" not in result.stderr
