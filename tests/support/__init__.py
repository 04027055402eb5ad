"""Shared helpers for tests: config writing, real-part requirements, fixed times."""

from __future__ import annotations

import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from syndicate.core.db import alembic_config

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
EXAMPLES = REPO / "examples" / "articles"
GOLDEN = Path(__file__).resolve().parent / "golden"
ARTIFACTS = REPO / "test-artifacts"

# CI sets this: a real part that is missing fails the run instead of skipping.
REQUIRE_ALL = os.environ.get("SYNDICATE_REQUIRE_ALL") == "1"
# `UPDATE_GOLDEN=1 make test` rewrites golden files instead of comparing.
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

BASE_CONFIG = """\
[site]
title = "Test News"
url = "https://news.example.org/"
description = "News for tests"
language = "en"
timezone = "Europe/Kyiv"
author = {{ name = "Desk", email = "desk@news.example.org" }}

[database]
url = "{db_url}"

[paths]
feeds = "feeds"
templates = "templates"

[mail]
provider = "maildir"
from = "Test News <news@news.example.org>"
maildir = "outbox"

[web]
listen = "127.0.0.1:0"
base_url = "https://news.example.org/"
"""


def require(condition: bool, what: str) -> None:
    """Skip when a real part is unavailable locally; fail under SYNDICATE_REQUIRE_ALL."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"{what} is required (SYNDICATE_REQUIRE_ALL=1) but not available")
    pytest.skip(f"{what} not available")


def require_binary(name: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    require(path is not None, f"the {name} program")
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(directory: Path, db_url: str, extra: str = "") -> Path:
    """Write BASE_CONFIG plus ``extra`` TOML to ``directory/config.toml``."""
    path = directory / "config.toml"
    path.write_text(BASE_CONFIG.format(db_url=db_url) + "\n" + extra, encoding="utf-8")
    return path


def check_golden(name: str, actual: bytes | str) -> None:
    """Compare with tests/golden/<name>; UPDATE_GOLDEN=1 rewrites it."""
    data = actual.encode() if isinstance(actual, str) else actual
    path = GOLDEN / name
    if UPDATE_GOLDEN or not path.exists():
        if not UPDATE_GOLDEN and REQUIRE_ALL:
            pytest.fail(f"golden file {path} is missing; run UPDATE_GOLDEN=1 make test")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    expected = path.read_bytes()
    assert data == expected, f"{name} differs from its golden file (UPDATE_GOLDEN=1 to accept)"


def head_revision() -> str:
    """The newest migration in syndicate/core/migrations (the revision ``db upgrade`` reaches)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or "base"
