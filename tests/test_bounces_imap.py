"""``syndicate bounces ingest`` polling a real IMAP mailbox (Dovecot on loopback).

Reports are APPENDed to a fresh mailbox per test; the poll applies them, then flags
each message (``\\Seen``; forged ones also ``\\Flagged``) or deletes it, only after the
commit. Plain IMAP (loopback only), STARTTLS and IMAPS are each exercised.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.service.context import App
from tests.support import REPO
from tests.support.bounces import HOOK, bounce_config, report, send_edition, status_of
from tests.support.dovecot import PASSWORD, USER, Dovecot, dovecot


@pytest.fixture(scope="module")
def server() -> Iterator[Dovecot]:
    with dovecot() as running:
        yield running


@pytest.fixture
def mailbox(server: Dovecot) -> str:
    name = f"Bounces-{uuid.uuid4().hex[:8]}"
    conn = server.client()
    assert conn.create(name)[0] == "OK"
    conn.logout()
    return name


@pytest.fixture
def imap_options() -> str:
    return 'security = "none"'


@pytest.fixture
def config_extra(server: Dovecot, mailbox: str, imap_options: str) -> str:
    port = server.tls_port if "ssl" in imap_options else server.port
    return (
        f'[mail.bounces]\nsource = "imap"\nhost = "127.0.0.1"\nport = {port}\n'
        f'username = "{USER}"\npassword_env = "T_IMAP_PASSWORD"\nmailbox = "{mailbox}"\n'
        f"{imap_options.replace('@@DOVECOT_CA@@', str(server.root / 'cert.pem'))}\n"
    )


@pytest.fixture
def config_file(
    tmp_path: Path, store_url: str, config_extra: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("T_IMAP_PASSWORD", PASSWORD)
    return bounce_config(tmp_path, store_url, config_extra)


def _append(server: Dovecot, mailbox: str, *messages: bytes) -> None:
    conn = server.client()
    for raw in messages:
        assert conn.append(f'"{mailbox}"', None, None, raw)[0] == "OK"
    conn.logout()


def _flags(server: Dovecot, mailbox: str) -> list[set[str]]:
    """Each message's flags, in mailbox order."""
    conn = server.client()
    conn.select(f'"{mailbox}"', readonly=True)
    _, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    found = []
    for line in data:
        if isinstance(line, bytes) and b"FLAGS" in line:
            found.append(set(re.findall(r"\\\w+", line.decode().partition("FLAGS (")[2])))
    return found


def _ingest(config: Path, *args: str):
    return CliRunner().invoke(
        main, ["--config", str(config), "--log-level", "error", "bounces", "ingest", *args]
    )


def test_imap_poll_applies_reports_and_flags_them_after_commit(
    app: App, config_file: Path, server: Dovecot, mailbox: str
) -> None:
    sent = send_edition(app, 3)
    forged = report(
        "yahoo-text.eml", sent[2], verp="bounce+7-aaaaaaaaaaaaaaaa@bounces.news.example.org"
    )
    _append(
        server,
        mailbox,
        report("office365.eml", sent[0]),
        report("arf-abuse.eml", sent[1]),
        forged,
    )
    result = _ingest(config_file)
    assert result.exit_code == 0, result.output
    assert "applied" in result.output and "forged" in result.output
    assert [status_of(app, s.rcpt).status for s in sent] == ["bounced", "complained", "active"]
    flags = _flags(server, mailbox)
    assert flags[0] == flags[1] == {"\\Seen"}
    assert flags[2] == {"\\Seen", "\\Flagged"}
    # A second poll finds nothing new; a report that came back unseen is a replay.
    again = _ingest(config_file)
    assert again.exit_code == 0 and "no new messages" in again.output
    _append(server, mailbox, report("office365.eml", sent[0]))
    replay = _ingest(config_file)
    assert "duplicate" in replay.output and "applied" not in replay.output


@pytest.mark.parametrize("imap_options", ['security = "none"\nprocessed = "delete"'])
def test_imap_delete_keeps_only_what_the_operator_must_see(
    app: App, config_file: Path, server: Dovecot, mailbox: str
) -> None:
    sent = send_edition(app, 2)
    _append(
        server,
        mailbox,
        report("postfix-hard.eml", sent[0]),
        report("autoreply.eml", sent[1]),
        report(
            "postfix-hard.eml", sent[1], verp="bounce+1-bbbbbbbbbbbbbbbb@bounces.news.example.org"
        ),
    )
    assert _ingest(config_file).exit_code == 0
    assert _flags(server, mailbox) == [{"\\Seen", "\\Flagged"}]  # the forged one
    assert status_of(app, sent[0].rcpt).status == "bounced"
    assert status_of(app, sent[1].rcpt).status == "active"


@pytest.mark.parametrize(
    "imap_options",
    [
        'security = "starttls"\nverify_tls = false',
        'security = "ssl"\nverify_tls = false',
        # Verified against the server's own (private) CA: mail.bounces.ca_file.
        'security = "ssl"\nca_file = "@@DOVECOT_CA@@"',
        'security = "starttls"\nca_file = "@@DOVECOT_CA@@"',
    ],
)
def test_imap_over_tls(app: App, config_file: Path, server: Dovecot, mailbox: str) -> None:
    sent = send_edition(app, 1)
    _append(server, mailbox, report("gmail-failure.eml", sent[0]))
    result = _ingest(config_file)
    assert result.exit_code == 0, result.output
    assert status_of(app, sent[0].rcpt).status == "bounced"


@pytest.mark.parametrize("imap_options", ['security = "ssl"'])
def test_an_unverifiable_certificate_is_one_line(
    app: App, config_file: Path, server: Dovecot
) -> None:
    result = _ingest(config_file)
    assert result.exit_code == 1
    assert f"cannot connect to imap://127.0.0.1:{server.tls_port}/" in result.output
    assert "CERTIFICATE_VERIFY_FAILED" in result.output and "Traceback" not in result.output


def test_a_wrong_password_is_one_line(
    app: App, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_IMAP_PASSWORD", "wrong")
    result = _ingest(config_file)
    assert result.exit_code == 1
    assert "login refused" in result.output and "mail.bounces.password_env" in result.output


def test_a_missing_mailbox_is_one_line(
    app: App, config_file: Path, mailbox: str, server: Dovecot
) -> None:
    conn = server.client()
    conn.delete(f'"{mailbox}"')
    conn.logout()
    result = _ingest(config_file)
    assert result.exit_code == 1 and "SELECT refused" in result.output, result.output


@pytest.mark.parametrize("moment", ["before-commit", "after-commit"])
def test_sigkill_before_the_flag_means_a_harmless_reread(
    app: App, config_file: Path, server: Dovecot, mailbox: str, moment: str
) -> None:
    sent = send_edition(app, 1)
    _append(server, mailbox, report("postfix-soft.eml", sent[0]))
    killed = subprocess.run(
        [sys.executable, "-c", HOOK, "--config", str(config_file), "bounces", "ingest"],
        cwd=REPO,
        env={**os.environ, "KILL_AT": moment},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    assert _flags(server, mailbox) == [set()]  # not marked
    assert status_of(app, sent[0].rcpt).soft_bounces == (1 if moment == "after-commit" else 0)
    result = _ingest(config_file)
    assert ("duplicate" if moment == "after-commit" else "applied") in result.output
    assert status_of(app, sent[0].rcpt).soft_bounces == 1
    assert _flags(server, mailbox) == [{"\\Seen"}]
