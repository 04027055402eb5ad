"""``make run`` can run again whatever the demo's reader did in between."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import REPO


def run_recipe() -> list[list[str]]:
    """The `syndicate` commands of the Makefile's run target, before the service starts."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe is not None
    commands = [shlex.split(line.strip()) for line in recipe[1].splitlines()]
    assert all(c[0] == "$(SYN)" for c in commands)
    assert commands[-1] == ["$(SYN)", "run"]
    return [c[1:] for c in commands[:-1]]


def syndicate(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO,  # the recipe's paths (examples/articles) are the checkout's
        timeout=300,
    )


def test_the_run_recipe_succeeds_again_after_the_reader_unsubscribed(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    steps = run_recipe()
    assert any(step[:2] == ["subscribers", "add"] for step in steps)
    for attempt in ("first", "after unsubscribing"):
        for step in steps:
            result = syndicate(config, *step)
            assert result.returncode == 0, f"{attempt}: {step}: {result.stdout}{result.stderr}"
            assert "Traceback" not in result.stderr
        if attempt == "first":
            assert syndicate(config, "subscribers", "remove", "reader@example.org").returncode == 0
    listed = syndicate(config, "subscribers", "list", "--json")
    assert '"status": "unsubscribed"' in listed.stdout  # never re-subscribed behind their back
    added = syndicate(config, "subscribers", "add", "reader@example.org")
    assert added.returncode == 1 and "is unsubscribed" in added.stderr  # without the flag
