"""`syndicate digest preview|send` through click's runner: what an operator types and sees."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from syndicate.cli import main
from syndicate.core.db import deliveries, editions
from syndicate.core.tokens import signer_for
from syndicate.digest import latest_slot
from syndicate.readers.subscribers import add
from syndicate.service.context import App
from tests.support.digests import DIGEST_CONFIG, add_dated_article

SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


def run(config_file: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])
    return result.exit_code, result.output


def subscribe(app: App, address: str, name: str) -> int:
    with app.engine.begin() as conn:
        subscriber, _ = add(conn, address, name=name, digests=["weekly"], now=SLOT)
    return subscriber.id


def count(app: App, table) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def body(message: email.message.EmailMessage, kind: str) -> str:
    return message.get_body((kind,)).get_content()


def test_preview_is_the_exact_personal_message_and_stores_nothing(
    app: App, config_file: Path, tmp_path: Path
) -> None:
    add_dated_article(
        app, "Trams at night", SLOT - timedelta(days=1), summary="Fares {{ stay }} 100%."
    )
    ann = subscribe(app, "ann@example.org", "Ann")
    bob = subscribe(app, "bob@example.org", "Bob")
    out = tmp_path / "preview.eml"

    code, output = run(
        config_file, "digest", "preview", "weekly", "--subscriber", "ann@example.org",
        "--at", "2026-03-02T10:00", "--out", str(out),
    )  # fmt: skip

    assert code == 0, output
    message = parse(out.read_bytes())
    assert message["Subject"] == "Test News weekly: 2026-03-02"
    assert message["To"] == "Ann <ann@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, text = body(message, "html"), body(message, "plain")
    assert "Trams at night" in html and "Fares {{ stay }} 100%." in text
    assert "@@" not in html and "@@" not in text
    token = message["List-Unsubscribe"].split("/unsubscribe/")[1].split(">")[0]
    assert f"/unsubscribe/{token}" in html
    checked = signer_for(app.settings, app.engine).check(token, "unsubscribe", now=SLOT)
    assert checked.subject == str(ann) != str(bob)
    assert count(app, editions) == 0 and count(app, deliveries) == 0


def test_preview_to_stdout_and_an_empty_period(app: App, config_file: Path) -> None:
    add_dated_article(app, "Old news", SLOT - timedelta(days=1))
    code, output = run(config_file, "digest", "preview", "weekly", "--at", "2026-03-02")
    assert code == 0 and "Subject: Test News weekly: 2026-03-02" in output
    assert "To: Reader <reader@example.org>" in output
    code, output = run(config_file, "digest", "preview", "weekly", "--at", "2020-01-06")
    assert code == 0 and "nothing would be sent" in output


def test_send_composes_and_queues_once(app: App, config_file: Path) -> None:
    now = datetime.now(UTC)  # the CLI runs on the system clock
    weekly = app.settings.digest("weekly")
    slot = latest_slot(weekly, app.settings.digest_timezone(weekly), now)
    assert slot is not None
    add_dated_article(app, "This week", slot - timedelta(hours=1))
    subscribe(app, "ann@example.org", "Ann")
    subscribe(app, "bob@example.org", "Bob")

    code, output = run(config_file, "digest", "send", "weekly", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert (report["status"], report["articles"]) == ("composed", 1)
    assert count(app, deliveries) == 2  # one row per subscriber: the outbox is the truth

    code, output = run(config_file, "digest", "send", "weekly")
    assert code == 0 and f"edition {report['edition_id']} of weekly" in output
    assert "queued for" in output
    assert count(app, editions) == 1 and count(app, deliveries) == 2


def test_send_test_copy_goes_to_one_address_and_creates_no_edition(
    app: App, config_file: Path, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    add_dated_article(app, "Test me", now - timedelta(days=8))  # inside the 14-day lookback
    subscribe(app, "ann@example.org", "Ann")

    code, output = run(config_file, "digest", "send", "weekly", "--test-to", "Me@Example.org")

    assert code == 0, output
    assert "sent a [TEST] copy" in output and "no edition was stored" in output
    [path] = (tmp_path / "outbox" / "new").iterdir()
    message = parse(path.read_bytes())
    assert message["Subject"].startswith("[TEST] Test News weekly: ")
    assert message["To"] == "Reader <Me@example.org>"
    assert "Test me" in body(message, "html")
    assert count(app, editions) == 0 and count(app, deliveries) == 0


def test_preview_to_an_unwritable_path_is_a_one_line_error(
    app: App, config_file: Path, tmp_path: Path
) -> None:
    add_dated_article(app, "Old news", SLOT - timedelta(days=1))
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    out = blocker / "preview.eml"
    code, output = run(
        config_file, "digest", "preview", "weekly", "--at", "2026-03-02", "--out", str(out)
    )
    assert code == 1 and output.startswith(f"error: --out: cannot write {out}")
    assert "Traceback" not in output


def test_unknown_digest_and_bad_time_are_one_line_errors(config_file: Path) -> None:
    code, output = run(config_file, "digest", "send", "nope")
    assert code == 1 and output.startswith("error: no digest named 'nope'")
    assert "Traceback" not in output
    code, output = run(config_file, "digest", "preview", "weekly", "--at", "soon")
    assert code == 2 and "is not a date or time" in output
