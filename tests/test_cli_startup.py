"""--version, --help and shell completion import no command module (start-up time is
measured in benchmarks/, not here): the lazy group's table must match the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click

from syndicate.cli import main
from syndicate.cli.lazy import COMMANDS
from tests.support import REPO

HEAVY = (
    "rich",
    "sqlalchemy",
    "pydantic",
    "jinja2",
    "flask",
    "syndicate.core.config",
    "syndicate.db",
)

PROBE = """
import json, sys
from syndicate.cli import main
try:
    main(sys.argv[1:], prog_name="syndicate")
except SystemExit:
    pass
loaded = sorted({m for m in sys.modules if m.split(".")[0] in %r or m in %r})
print("LOADED=" + json.dumps(loaded), file=sys.stderr)
"""


def loaded_by(*args: str, env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    heavy_roots = tuple(h for h in HEAVY if "." not in h)
    heavy_modules = tuple(h for h in HEAVY if "." in h)
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (heavy_roots, heavy_modules), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    marker = result.stderr.rsplit("LOADED=", 1)
    assert len(marker) == 2, result.stderr
    return result.stdout, json.loads(marker[1])


def test_version_and_help_import_nothing_heavy() -> None:
    out, loaded = loaded_by("--version")
    assert out.startswith("syndicate, version ") and loaded == []
    out, loaded = loaded_by("--help")
    assert "subscribers  Manage the people who receive the digests." in out
    assert loaded == []


def test_completing_a_command_name_imports_nothing_heavy() -> None:
    out, loaded = loaded_by(
        env={
            "_SYNDICATE_COMPLETE": "bash_complete",
            "COMP_WORDS": "syndicate su",
            "COMP_CWORD": "1",
        }
    )
    assert out.split() == ["plain,subscribers"] and loaded == []


def test_the_table_matches_every_command() -> None:
    ctx = click.Context(main)
    for name, (_, help_line) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None, name
        assert command.get_short_help_str(1000) == help_line, name
    assert set(main.commands) == set(COMMANDS)  # nothing registered outside the table


def test_the_documented_completion_scripts_are_real() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for shell, expected in [
        ("bash", "complete -o nosort -F _syndicate_completion syndicate"),
        ("zsh", "compdef _syndicate_completion syndicate"),
        ("fish", "complete --no-files --command syndicate"),
    ]:
        assert f"_SYNDICATE_COMPLETE={shell}_source syndicate" in readme
        result = subprocess.run(
            [sys.executable, "-m", "syndicate"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "_SYNDICATE_COMPLETE": f"{shell}_source"},
        )
        assert result.returncode == 0 and expected in result.stdout, result.stdout
