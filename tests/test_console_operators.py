"""Operator accounts: one-time links, argon2 hashes, TOTP, sessions, and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from syndicate.cli import main
from syndicate.core.clock import FixedClock
from syndicate.core.db import operators, transaction
from syndicate.service.context import App
from syndicate.web.console import audit, sessions
from syndicate.web.console import operators as ops
from tests.support.console import PASSWORD, make_operator

IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


def test_a_new_operator_sets_a_password_through_a_one_time_link(app: App) -> None:
    now = app.clock.now()
    with transaction(app.engine) as conn:
        operator, token = ops.add(conn, "Ed@Example.ORG", role="editor", now=now)
        assert operator.email == "ed@example.org" and not operator.has_password
        assert token and ops.setup_operator(conn, token, now) == operator
        stored = conn.execute(select(operators.c.setup_hash)).scalar_one()
        assert token not in stored  # only its hash is kept
        assert ops.authenticate(conn, "ed@example.org", "", "", now) is None
        with pytest.raises(ops.OperatorError, match="too short"):
            ops.set_password_with_token(conn, token, "short", now)
        assert ops.set_password_with_token(conn, token, PASSWORD, now) is not None
        assert ops.set_password_with_token(conn, token, PASSWORD, now) is None  # spent
        hashed = conn.execute(select(operators.c.password_hash)).scalar_one()
        assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
        assert ops.authenticate(conn, "ED@example.org", PASSWORD, "", now).role == "editor"
        assert ops.authenticate(conn, "ed@example.org", PASSWORD + "x", "", now) is None
        assert ops.authenticate(conn, "nobody@example.org", PASSWORD, "", now) is None


def test_a_setup_link_expires(app: App, clock: FixedClock) -> None:
    with transaction(app.engine) as conn:
        _, token = ops.add(conn, "v@example.org", role="viewer", now=clock.now())
    clock.advance(hours=48, seconds=1)
    with transaction(app.engine) as conn:
        assert ops.set_password_with_token(conn, token, PASSWORD, clock.now()) is None


def test_totp_is_required_once_on_and_a_code_counts_once(app: App, clock: FixedClock) -> None:
    operator = make_operator(app, "o@example.org", "owner")
    secret = ops.new_totp_secret()
    code = pyotp.TOTP(secret).at(clock.now())
    with transaction(app.engine) as conn:
        assert not ops.enable_totp(conn, operator.id, secret, "000000", clock.now())
        assert ops.enable_totp(conn, operator.id, secret, code, clock.now())
        assert ops.authenticate(conn, "o@example.org", PASSWORD, "", clock.now()) is None
        assert ops.authenticate(conn, "o@example.org", PASSWORD, code, clock.now()) is None
    clock.advance(seconds=30)
    fresh = pyotp.TOTP(secret).at(clock.now())
    with transaction(app.engine) as conn:
        assert ops.authenticate(conn, "o@example.org", PASSWORD, fresh, clock.now()) is not None
        assert ops.authenticate(conn, "o@example.org", PASSWORD, fresh, clock.now()) is None


def test_sessions_end_when_idle_or_too_old_and_on_password_reset(
    app: App, clock: FixedClock
) -> None:
    operator = make_operator(app, "o@example.org", "owner")
    with transaction(app.engine) as conn:
        value = sessions.create(conn, operator.id, clock.now())
        assert sessions.load(conn, value, now=clock.now(), idle=IDLE, absolute=ABSOLUTE)
        assert sessions.load(conn, "forged", now=clock.now(), idle=IDLE, absolute=ABSOLUTE) is None
    for _ in range(24):  # active every 29 minutes for 11 h 36 min: the idle limit never hits...
        clock.advance(minutes=29)
        with transaction(app.engine) as conn:
            assert sessions.load(conn, value, now=clock.now(), idle=IDLE, absolute=ABSOLUTE)
    clock.advance(minutes=29)  # ...but the absolute one does
    with transaction(app.engine) as conn:
        assert sessions.load(conn, value, now=clock.now(), idle=IDLE, absolute=ABSOLUTE) is None
        idle_one = sessions.create(conn, operator.id, clock.now())
    clock.advance(minutes=30)
    with transaction(app.engine) as conn:
        assert sessions.load(conn, idle_one, now=clock.now(), idle=IDLE, absolute=ABSOLUTE) is None
        live = sessions.create(conn, operator.id, clock.now())
        ops.reset(conn, "o@example.org", now=clock.now())
        assert sessions.load(conn, live, now=clock.now(), idle=IDLE, absolute=ABSOLUTE) is None


def test_the_last_owner_stays(app: App) -> None:
    make_operator(app, "o@example.org", "owner")
    with transaction(app.engine) as conn:
        with pytest.raises(ops.OperatorError, match="last owner"):
            ops.remove(conn, "o@example.org")
        with pytest.raises(ops.OperatorError, match="last owner"):
            ops.set_role(conn, "o@example.org", "viewer")


def _cli(app: App, *args: str, stdin: str | None = None):
    config = app.settings.config_file
    return CliRunner().invoke(main, ["--config", config, *args], input=stdin)


def test_cli_add_list_reset_remove(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    added = _cli(app, "operators", "add", "Boss@Example.org", "--role", "owner", "--json")
    assert added.exit_code == 0, added.output
    link = json.loads(added.output)["setup_link"]
    assert link.startswith("https://news.example.org/admin/setup/")
    with transaction(app.engine) as conn:
        assert ops.set_password_with_token(conn, link.rsplit("/", 1)[1], PASSWORD, app.clock.now())
    piped = _cli(app, "operators", "add", "ed@example.org", "--role", "editor",
                 "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert piped.exit_code == 0 and "one-time link" not in piped.output
    with app.engine.connect() as conn:
        assert ops.authenticate(conn, "ed@example.org", PASSWORD, "", app.clock.now())
    listed = json.loads(_cli(app, "operators", "list", "--json").output)
    assert [(o["email"], o["role"], o["password"]) for o in listed] == [
        ("boss@example.org", "owner", True),
        ("ed@example.org", "editor", True),
    ]
    again = _cli(app, "operators", "add", "ed@example.org", "--role", "viewer")
    assert again.exit_code == 1 and "already an operator" in again.output
    bad_role = _cli(app, "operators", "add", "x@example.org", "--role", "god")
    assert bad_role.exit_code == 2
    reset = _cli(app, "operators", "reset", "ed@example.org")
    assert reset.exit_code == 0 and "/admin/setup/" in reset.output
    with app.engine.connect() as conn:
        assert ops.authenticate(conn, "ed@example.org", PASSWORD, "", app.clock.now()) is None
    assert _cli(app, "operators", "remove", "ed@example.org").exit_code == 0
    last = _cli(app, "operators", "remove", "boss@example.org")
    assert last.exit_code == 1 and "last owner" in last.output and "Traceback" not in last.output
    with app.engine.connect() as conn:
        actions = [e.action for e in audit.recent(conn)]
    assert actions == ["operator.remove", "operator.reset", "operator.add", "operator.add"]
