"""``syndicate bounces ingest`` as an operator runs it: from an MTA's pipe (stdin), from
a Maildir folder, killed with SIGKILL mid-way; and a real SMTP round trip whose MAIL
FROM is the VERP address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from syndicate.core.config import load_settings
from syndicate.core.db import deliveries, webhook_events
from syndicate.core.tokens import signer_for
from syndicate.delivery.bounces import verp
from syndicate.delivery.drain import drain
from syndicate.delivery.messages import message_domain
from syndicate.delivery.outbox import enqueue
from syndicate.service.context import App
from tests.support import REPO, free_port
from tests.support.bounces import (
    BOUNCE_ADDRESS,
    HOOK,
    Sent,
    bounce_config,
    report,
    send_edition,
    status_of,
)
from tests.support.deliveries import add_edition, add_subscribers


@pytest.fixture
def config_file(tmp_path: Path, store_url: str, config_extra: str) -> Path:
    return bounce_config(tmp_path, store_url, config_extra)


def syndicate(config: Path, *args: str, data: bytes = b"", env: dict[str, str] | None = None):
    """The real CLI in a child process, as an MTA's pipe transport runs it."""
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(config), *args],
        input=data,
        capture_output=True,
        cwd=config.parent,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


# -- SMTP round trip ------------------------------------------------------------------


class EnvelopeSink:
    """aiosmtpd handler recording each transaction's MAIL FROM and RCPT TO."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_smtp_mail_from_is_the_verp_address_and_its_bounce_suppresses(app: App) -> None:
    sink = EnvelopeSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = app.settings.mail.smtp.model_copy(
            update={"host": "127.0.0.1", "port": port, "security": "none"}
        )
        mail = app.settings.mail.model_copy(update={"provider": "smtp", "smtp": smtp})
        smtp_app = App(
            app.settings.model_copy(update={"mail": mail}), clock=app.clock, _engine=app.engine
        )
        now = app.clock.now()
        add_subscribers(app.engine, 3, now=now)
        edition_id = add_edition(app.engine, now=now)
        with app.engine.begin() as conn:
            enqueue(
                conn,
                edition_id=edition_id,
                digest="weekly",
                now=now,
                domain=message_domain(app.settings),
            )
        assert (
            drain(
                smtp_app.engine,
                smtp_app.settings,
                clock=smtp_app.clock,
                mailer=smtp_app.mailer,
                once=True,
            ).sent
            == 3
        )
    finally:
        controller.stop()
    signer = signer_for(app.settings, app.engine)
    with app.engine.connect() as conn:
        rows = dict(conn.execute(select(deliveries.c.email, deliveries.c.id)).all())
    assert len(sink.envelopes) == 3
    for mail_from, [rcpt], content in sink.envelopes:
        assert mail_from.startswith("bounce+") and mail_from.endswith("@bounces.news.example.org")
        assert verp.delivery_of(signer, BOUNCE_ADDRESS, mail_from) == rows[rcpt]
        assert b"Return-Path" not in content  # the receiving MTA adds it, not us
    # The receiving side refuses one address later: its DSN goes to that MAIL FROM.
    mail_from, [rcpt], content = sink.envelopes[1]
    headers = content.replace(b"\r\n", b"\n").decode().partition("\n\n")[0]
    sent = Sent(rows[rcpt], rcpt, mail_from, headers, "")
    from syndicate.delivery.bounces.ingest import ingest

    assert ingest(app, report("postfix-hard.eml", sent)).status == "applied"
    assert status_of(app, rcpt).status == "bounced"
    assert [status_of(app, r).status for _, [r], _ in sink.envelopes].count("active") == 2


# -- stdin ----------------------------------------------------------------------------


def test_stdin_ingest_through_the_real_cli(app: App, config_file: Path) -> None:
    sent = send_edition(app, 2)
    raw = report("gmail-failure.eml", sent[0])
    first = syndicate(config_file, "bounces", "ingest", "-", "--json", data=raw)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["status"] == "applied" and answer["delivery_id"] == sent[0].delivery_id
    assert answer["kind"] == "hard_bounce"
    second = syndicate(config_file, "bounces", "ingest", "-", data=raw)
    assert second.returncode == 0 and second.stdout.decode().startswith("duplicate:")
    assert status_of(app, sent[0].rcpt).status == "bounced"
    assert status_of(app, sent[1].rcpt).status == "active"
    # Garbage and forgeries are accepted (exit 0: an MTA must not bounce a bounce) and change nothing.
    for data in (
        b"\x00\x01 not mail",
        report(
            "postfix-hard.eml", sent[1], verp="bounce+zz-aaaaaaaaaaaaaaaa@bounces.news.example.org"
        ),
    ):
        answer = syndicate(config_file, "bounces", "ingest", "-", data=data)
        assert answer.returncode == 0 and b"Traceback" not in answer.stderr
    assert status_of(app, sent[1].rcpt).status == "active"


def test_stdin_ingest_defers_when_the_store_is_unusable(tmp_path: Path) -> None:
    """EX_TEMPFAIL (75): the MTA keeps the report and pipes it again later."""
    folder = tmp_path / "not-a-database"
    folder.mkdir()
    config = bounce_config(tmp_path, f"sqlite:///{folder}")
    answer = syndicate(
        config,
        "bounces",
        "ingest",
        "-",
        data=b"From: MAILER-DAEMON@x\r\nSubject: Undeliverable\r\n\r\n<a@b.example>: 550 5.1.1\r\n",
    )
    assert answer.returncode == 75, answer
    assert b"Traceback" not in answer.stderr and b"error:" in answer.stderr


# -- Maildir --------------------------------------------------------------------------


@pytest.fixture
def config_extra() -> str:
    return '[mail.bounces]\nsource = "maildir"\nmaildir = "bounces"\n'


def _deliver(folder: Path, name: str, raw: bytes) -> Path:
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    path = folder / "new" / name
    path.write_bytes(raw.replace(b"\r\n", b"\n"))
    return path


def test_maildir_poll_marks_each_message_after_its_commit(app: App, config_file: Path) -> None:
    sent = send_edition(app, 3)
    folder = config_file.parent / "bounces"
    _deliver(folder, "1.a.host", report("postfix-hard.eml", sent[0]))
    _deliver(folder, "2.b.host", report("arf-abuse.eml", sent[1]))
    forged = report(
        "exim-hard.eml", sent[2], verp="bounce+1-aaaaaaaaaaaaaaaa@bounces.news.example.org"
    )
    _deliver(folder, "3.c.host", forged)
    _deliver(folder, "4.d.host", report("autoreply.eml", sent[2]))
    answer = syndicate(config_file, "bounces", "ingest", "--json")
    assert answer.returncode == 0, answer.stderr
    counts = json.loads(answer.stdout)["counts"]
    assert counts == {"applied": 2, "forged": 1, "ignored": 1}
    assert sorted(p.name for p in (folder / "cur").iterdir()) == [
        "1.a.host:2,S",
        "2.b.host:2,S",
        "3.c.host:2,FS",  # forged: kept and flagged for the operator
        "4.d.host:2,S",
    ]
    assert list((folder / "new").iterdir()) == []
    assert [status_of(app, s.rcpt).status for s in sent] == ["bounced", "complained", "active"]
    again = syndicate(config_file, "bounces", "ingest")
    assert again.returncode == 0 and again.stdout.decode().strip() == "no new messages"


def test_maildir_missing_folder_is_one_line_naming_the_key(app: App, config_file: Path) -> None:
    answer = syndicate(config_file, "bounces", "ingest")
    assert answer.returncode == 1
    err = answer.stderr.decode()
    assert "mail.bounces.maildir" in err and "Traceback" not in err


@pytest.mark.parametrize("moment", ["before-commit", "after-commit"])
def test_sigkill_between_parse_commit_and_mark_loses_and_doubles_nothing(
    app: App, config_file: Path, moment: str
) -> None:
    sent = send_edition(app, 1)
    folder = config_file.parent / "bounces"
    target = _deliver(folder, "1.a.host", report("postfix-soft.eml", sent[0]))
    killed = subprocess.run(
        [sys.executable, "-c", HOOK, "--config", str(config_file), "bounces", "ingest"],
        cwd=REPO,
        env={**os.environ, "KILL_AT": moment},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    assert target.exists()  # never marked
    counted = status_of(app, sent[0].rcpt).soft_bounces
    assert counted == (1 if moment == "after-commit" else 0)
    answer = syndicate(config_file, "bounces", "ingest", "--json")
    assert json.loads(answer.stdout)["counts"] == {"duplicate" if counted else "applied": 1}
    assert status_of(app, sent[0].rcpt).soft_bounces == 1
    assert not target.exists() and (folder / "cur" / "1.a.host:2,S").exists()
    with app.engine.connect() as conn:
        assert len(conn.execute(select(webhook_events)).all()) == 1


def test_bounces_config_is_checked(tmp_path: Path) -> None:
    from syndicate.core.errors import ConfigError

    cases = {
        '[mail.bounces]\nsource = "imap"\nhost = "mail.example.org"\nusername = "u"\npassword_env = "P"\nsecurity = "none"\n': "loopback only",
        '[mail.bounces]\nsource = "maildir"\n': "needs maildir",
        '[mail.bounces]\nsource = "imap"\nhost = "127.0.0.1"\n': "needs host, username and password_env",
    }
    for extra, words in cases.items():
        with pytest.raises(ConfigError) as caught:
            load_settings(bounce_config(tmp_path, "sqlite:///x.db", extra))
        assert "mail.bounces" in " ".join(caught.value.problems) and words in " ".join(
            caught.value.problems
        )


def test_stdin_ingest_with_a_broken_config_defers(tmp_path: Path) -> None:
    config = bounce_config(tmp_path, "sqlite:///x.db")
    config.write_text(config.read_text().replace('bounce_address = "', 'bounce_adress = "'))
    answer = syndicate(config, "bounces", "ingest", "-", data=b"Subject: x\r\n\r\nx\r\n")
    assert answer.returncode == 75
    assert b"mail.bounce_adress" in answer.stderr and b"Traceback" not in answer.stderr


def test_without_a_mailbox_the_command_reads_stdin(
    app: App, tmp_path: Path, store_url: str
) -> None:
    sent = send_edition(app, 1)
    plain = tmp_path / "plain"
    plain.mkdir()
    config = bounce_config(plain, store_url)  # the same store, no [mail.bounces]
    answer = syndicate(config, "bounces", "ingest", data=report("exim-hard.eml", sent[0]))
    assert answer.returncode == 0 and answer.stdout.startswith(b"applied:"), answer
    assert status_of(app, sent[0].rcpt).status == "bounced"


@pytest.mark.parametrize(
    "config_extra",
    ['[mail.bounces]\nsource = "maildir"\nmaildir = "bounces"\nprocessed = "delete"\n'],
)
def test_maildir_delete_keeps_only_what_the_operator_must_see(app: App, config_file: Path) -> None:
    sent = send_edition(app, 2)
    folder = config_file.parent / "bounces"
    _deliver(folder, "1.a.host", report("postfix-hard.eml", sent[0]))
    _deliver(
        folder,
        "2.b.host",
        report(
            "postfix-hard.eml",
            sent[1],
            rcpt="x@nowhere.example",
            verp=BOUNCE_ADDRESS,
            headers="To: x@nowhere.example",
        ),
    )
    answer = syndicate(config_file, "bounces", "ingest")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.decode().strip().endswith("1 applied, 1 unmatched")
    assert [p.name for p in (folder / "cur").iterdir()] == ["2.b.host:2,FS"]
    assert list((folder / "new").iterdir()) == []


def test_the_service_polls_the_mailbox_on_its_schedule(app: App, config_file: Path) -> None:
    from syndicate.core.config import BounceMailboxSettings
    from syndicate.service import jobs

    sent = send_edition(app, 2)
    [job] = [j for j in jobs.scheduled_jobs(app.settings) if j.name == "bounces"]
    assert job.expression == "*/5 * * * *"
    _deliver(config_file.parent / "bounces", "1.a.host", report("postfix-hard.eml", sent[1]))
    outcome = job.run(app, app.clock.now())
    assert (outcome.status, outcome.counts) == ("ok", {"applied": 1})
    assert status_of(app, sent[1].rcpt).status == "bounced"
    assert job.run(app, app.clock.now()).status == "not-claimed"  # one run per slot
    # A crash mid-poll is finished by the leader like any job (idempotently).
    assert jobs.resumable_work(app, "bounces", "x") is not None
    unscheduled = BounceMailboxSettings(source="maildir", maildir="b", schedule="")
    mail = app.settings.mail.model_copy(update={"bounces": unscheduled})
    quiet = app.settings.model_copy(update={"mail": mail})
    assert "bounces" not in [j.name for j in jobs.scheduled_jobs(quiet)]
