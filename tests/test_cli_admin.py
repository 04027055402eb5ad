"""init, check, db upgrade and --help, as an operator meets them first."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from syndicate.cli import main
from tests.support import head_revision

DESIGN_COMMANDS = [
    "init", "check", "db", "import", "articles", "feeds", "digest", "deliver",
    "subscribers", "worker", "serve", "run", "status",
]  # fmt: skip


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_help_lists_every_command_of_the_design() -> None:
    code, output = invoke("--help")
    assert code == 0
    listed = {line.split()[0] for line in output.split("Commands:")[1].splitlines() if line.strip()}
    assert set(DESIGN_COMMANDS) <= listed


def test_init_scaffolds_a_site_that_checks_and_imports(tmp_path: Path) -> None:
    site = tmp_path / "site"
    code, output = invoke("init", str(site), "--title", "Site", "--url", "https://site.test/")
    assert code == 0, output
    config = site / "config.toml"
    assert config.is_file() and (site / "articles").is_dir()
    assert not (site / "templates").exists()  # the packaged templates are the fallback
    assert invoke("--config", str(config), "check")[0] == 0
    article = site / "articles" / "first.md"
    article.write_text("---\ntitle: First\n---\nHello.\n", encoding="utf-8")
    code, output = invoke("--config", str(config), "import", str(article))
    assert code == 0 and "1 imported" in output
    assert (site / "syndicate.db").is_file()  # relative paths resolve next to config.toml

    code, output = invoke("init", str(site))  # never overwrites by accident
    assert code == 1 and "already exists" in output and "--force" in output
    assert invoke("init", "--force", "--templates", str(site))[0] == 0
    assert (site / "templates" / "digest.html").is_file()


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    invoke("init", str(tmp_path))
    code, output = invoke("--config", str(tmp_path / "config.toml"), "db", "upgrade")
    assert code == 0 and f"at revision {head_revision()}" in output
