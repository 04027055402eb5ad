"""Config discovery says which file it uses when it is not in the current folder, and
skips a config.toml owned by someone else (not you, not root), like git's
safe.directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from syndicate.core.configfind import find_config
from tests.support import write_config


def _owned_by_someone_else(path: Path) -> int | None:
    """Give ``path`` another owner; the uid to pass as the current user (None: real)."""
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)  # nobody
        return None
    return os.getuid() + 1  # the file stays ours; "we" become someone else


def test_a_config_in_a_parent_folder_is_named_on_stderr(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///s.db")
    deep = tmp_path / "articles" / "2026"
    deep.mkdir(parents=True)
    said: list[str] = []
    found = find_config(None, cwd=deep, environ={}, say=said.append)
    assert found.path == config and said == [f"using {config} (found in a parent folder)"]
    said.clear()
    assert find_config(None, cwd=tmp_path, environ={}, say=said.append).found and not said
    # as a user runs it: one line on stderr, the command's own output unchanged
    env = {k: v for k, v in os.environ.items() if k != "SYNDICATE_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "new", "From below"],
        cwd=deep, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"syndicate: using {config} (found in a parent folder)" in result.stderr.splitlines()


def test_a_config_owned_by_another_user_is_skipped(tmp_path: Path) -> None:
    mine = write_config(tmp_path, "sqlite:///s.db")
    deep = tmp_path / "shared" / "drafts"
    deep.mkdir(parents=True)
    planted = write_config(tmp_path / "shared", "sqlite:///planted.db")
    uid = _owned_by_someone_else(planted)
    said: list[str] = []
    found = find_config(None, cwd=deep, environ={}, uid=uid, say=said.append)
    assert found.path == mine
    assert said[0].startswith(f"skipped {planted}: owned by user id ")
    assert said[0].endswith(", not by you or root")
    assert said[1] == f"using {mine} (found in a parent folder)"


def test_a_config_in_the_current_folder_owned_by_another_user_is_skipped(
    tmp_path: Path,
) -> None:
    planted = write_config(tmp_path, "sqlite:///planted.db")
    uid = _owned_by_someone_else(planted)
    said: list[str] = []
    found = find_config(None, cwd=tmp_path, environ={}, uid=uid, say=said.append)
    assert not found.found or found.path.is_absolute()  # not ./config.toml
    assert any(line.startswith(f"skipped {planted}") for line in said)
