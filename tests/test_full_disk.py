"""A full or read-only disk under the Maildir: `deliver --once` fails loudly, loses nothing.

The Maildir lives on a real 64 KiB tmpfs (root can mount one; CI runs as root), so
the kernel itself answers ENOSPC or EROFS.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from syndicate.core.clock import FixedClock
from syndicate.core.db import deliveries
from syndicate.service.context import App
from tests.support import require
from tests.support.deliveries import queued_edition

RECIPIENTS = 60


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB filesystem of its own, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    require(done.returncode == 0, "a tmpfs mount (run the tests as root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def config_extra() -> str:
    return ""


def _states(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return dict(
            conn.execute(
                select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
            ).all()
        )


def _deliver(config_file: Path, disk: Path) -> tuple[int, str]:
    text = config_file.read_text().replace('maildir = "outbox"', f'maildir = "{disk}/outbox"')
    config_file.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(config_file), "deliver", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_a_full_disk_exits_non_zero_says_enospc_and_loses_nothing(
    app: App, clock: FixedClock, config_file: Path, disk: Path
) -> None:
    queued_edition(app.engine, RECIPIENTS, now=clock.now(), body="x" * 4000)
    code, output = _deliver(config_file, disk)
    assert code == 1, output
    assert "no space left on the device (ENOSPC)" in output
    assert "is full: free space" in output and "nothing is lost" in output
    assert "permission" not in output
    states = _states(app)
    written = list((disk / "outbox" / "new").iterdir())
    assert 0 < states.get("sent", 0) < RECIPIENTS
    assert states["sent"] == len(written)  # every row marked sent has its file
    assert sum(states.values()) == RECIPIENTS and set(states) <= {"sent", "queued", "deferred"}
    assert list((disk / "outbox" / "tmp").iterdir()) == []  # no partial file left behind


def test_a_read_only_disk_exits_non_zero_and_says_erofs(
    app: App, clock: FixedClock, config_file: Path, disk: Path
) -> None:
    queued_edition(app.engine, 3, now=clock.now())
    for sub in ("tmp", "new", "cur"):
        (disk / "outbox" / sub).mkdir(parents=True)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    code, output = _deliver(config_file, disk)
    assert code == 1, output
    assert "read-only (EROFS)" in output and "remount it read-write" in output
    assert _states(app).get("sent", 0) == 0


def test_a_killed_workers_old_tmp_file_is_removed_and_others_are_kept(tmp_path: Path) -> None:
    import os
    import socket
    import time

    from syndicate.delivery.mailers.maildir import TMP_STALE_SECONDS, MaildirMailer

    host = socket.gethostname().replace("/", "_").replace(":", "_")
    tmp = tmp_path / "outbox" / "tmp"
    tmp.mkdir(parents=True)
    old, fresh, foreign = tmp / f"7.e1.s7@n.org.{host}", tmp / f"8.e1.s8@n.org.{host}", tmp / "x"
    for path in (old, fresh, foreign):
        path.write_bytes(b"Subject: half a mess")
    long_ago = time.time() - TMP_STALE_SECONDS - 60
    for path in (old, foreign):
        os.utime(path, (long_ago, long_ago))
    MaildirMailer(tmp_path / "outbox")
    assert not old.exists()  # ours, left by a killed worker long ago
    assert fresh.exists()  # ours, maybe a live worker's message in flight
    assert foreign.exists()  # not ours
