"""`syndicate subscribers ...` through click's runner: what an operator types and sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main


@pytest.fixture
def config_extra() -> str:
    return '[[digests]]\nname = "weekly"\ntitle = "Weekly"\nschedule = "0 8 * * MON"\n'


def run(config_file: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])
    return result.exit_code, result.output


def test_add_list_show_remove_erase(config_file: Path) -> None:
    code, out = run(config_file, "subscribers", "add", "Ann@Example.ORG", "--name", "Ann")
    assert code == 0 and "Ann@example.org: added (weekly)" in out
    code, out = run(config_file, "subscribers", "list", "--json")
    assert [s["email"] for s in json.loads(out)] == ["Ann@example.org"]
    code, out = run(config_file, "subscribers", "show", "Ann@example.org", "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["digests"], shown["deliveries"]) == ("active", ["weekly"], {})
    code, out = run(config_file, "subscribers", "remove", "Ann@example.org")
    assert code == 0 and "unsubscribed" in out
    code, out = run(config_file, "subscribers", "add", "Ann@example.org")
    assert code == 1 and "unsubscribed" in out and "--force" in out and "Traceback" not in out
    code, out = run(config_file, "subscribers", "erase", "Ann@example.org", "--yes")
    assert code == 0 and "erased" in out
    code, out = run(config_file, "subscribers", "show", "Ann@example.org")
    assert code == 1 and "no subscriber" in out


def test_bad_input_is_one_line_not_a_traceback(config_file: Path) -> None:
    for args in (("add", "not-an-address"), ("add", "a@example.org", "--digest", "nope")):
        code, out = run(config_file, "subscribers", *args)
        assert code == 1 and out.startswith("error:") and "Traceback" not in out


def test_import_dry_run_then_real_and_export(config_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        "email,name\nbo@example.org,Bo\nbo@EXAMPLE.org,Bo again\nbroken,X\n", encoding="utf-8"
    )
    code, out = run(config_file, "subscribers", "import", str(source), "--dry-run", "--json")
    report = json.loads(out)
    assert code == 0 and report["dry_run"] and report["added"] == 1
    assert [r["line"] for r in report["rejected"]] == [3, 4]
    assert json.loads(run(config_file, "subscribers", "list", "--json")[1]) == []
    code, out = run(config_file, "subscribers", "import", str(source))
    assert code == 0 and "1 added" in out and "2 rejected" in out and "duplicate" in out
    target = tmp_path / "out.csv"
    assert run(config_file, "subscribers", "export", "--out", str(target))[0] == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("email,") and lines[1].startswith("bo@example.org,Bo,active,weekly")
