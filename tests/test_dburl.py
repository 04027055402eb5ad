"""[database] url: the schemes people paste work or say what to write instead, and a
mistyped SQLite folder never starts a new, empty store."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from syndicate.cli import main
from syndicate.core.config import load_settings
from syndicate.core.db import open_store
from tests.support import write_config


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_postgres_scheme_means_postgresql_through_psycopg(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, "postgres://u:p@db.internal:5433/news"))
    assert settings.database_url == "postgresql+psycopg://u:p@db.internal:5433/news"
    settings = load_settings(write_config(tmp_path, "postgresql://u@db.internal/news"))
    assert settings.database_url == "postgresql+psycopg://u@db.internal/news"


def test_a_postgres_url_opens_a_real_store(pg_url: str) -> None:
    pasted = "postgres://" + pg_url.split("://", 1)[1]  # as a hosting provider hands it out
    engine = open_store(pasted)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from articles")).scalar() == 0
    finally:
        engine.dispose()


def test_unsupported_databases_say_what_to_use(tmp_path: Path) -> None:
    for url, said in [
        ("mysql://u@h/db", "'mysql' databases are not supported"),
        ("mariadb+pymysql://u@h/db", "'mariadb' databases are not supported"),
        ("postgresql+psycopg2://u@h/db", "the driver 'psycopg2' is not installed"),
        ("syndicate.db", "'syndicate.db' is not a URL"),
    ]:
        code, output = _run(write_config(tmp_path, url), "status")
        assert code == 1, url
        assert "database.url: " + said in output, output
        assert "postgresql+psycopg://" in output


def test_a_missing_sqlite_folder_is_an_error_not_a_new_store(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///missing/dir/x.db")
    code, output = _run(config, "status")
    assert code == 1
    assert f"the SQLite folder {tmp_path / 'missing' / 'dir'} does not exist" in output
    assert "hint: create the folder, or fix the path in [database] url" in output
    assert not (tmp_path / "missing").exists()

    (tmp_path / "ok").mkdir()
    good = write_config(tmp_path / "ok", "sqlite:///s.db")
    code, output = _run(good, "db", "copy", "--to", f"sqlite:///{tmp_path}/nowhere/y.db")
    assert code == 1 and "nowhere does not exist" in output
    assert not (tmp_path / "nowhere").exists()
