"""The folder watcher outlives a watch that cannot start (the inotify watch limit):
one log line per failure, a growing wait, then a working watch."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
import watchfiles

from syndicate.core.config import load_settings
from syndicate.intake.sources import watch
from tests.support import write_config


def test_a_failing_watch_is_logged_and_retried_until_it_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "drafts"
    folder.mkdir()
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'store.db'}",
        f'[[sources]]\nname = "drafts"\npath = "{folder}"\n',
    )
    settings = load_settings(config)
    real_watch = watchfiles.watch
    attempts: list[int] = []

    def flaky_watch(*args, **kwargs):
        """The first two watches fail the way inotify does at its limit; then the real one."""
        attempts.append(1)
        if len(attempts) <= 2:
            raise OSError(28, "OS file watch limit reached")
        return real_watch(*args, **kwargs)

    monkeypatch.setattr(watch.watchfiles, "watch", flaky_watch)
    monkeypatch.setattr(watch, "RETRY_FIRST_S", 0.05)
    stop = threading.Event()
    imported: list[str] = []

    def changed(name: str) -> None:
        imported.append(name)
        stop.set()  # the watch is live and answered: done

    caplog.set_level(logging.WARNING, logger="syndicate.intake.sources.watch")
    thread = threading.Thread(target=watch.watch_folders, args=(lambda: settings, stop, changed))
    thread.start()
    thread.join(timeout=30)
    stop.set()
    thread.join()
    assert imported == ["drafts"]
    assert len(attempts) == 3
    failures = [r.getMessage() for r in caplog.records if "watching" in r.getMessage()]
    assert failures == [
        "watching the source folders failed (OSError: [Errno 28] OS file watch limit "
        "reached); retrying in 0.05 s",
        "watching the source folders failed (OSError: [Errno 28] OS file watch limit "
        "reached); retrying in 0.1 s",
    ]


def test_stop_ends_the_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "drafts"
    folder.mkdir()
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'store.db'}",
        f'[[sources]]\nname = "drafts"\npath = "{folder}"\n',
    )
    settings = load_settings(config)
    stop = threading.Event()

    def broken_watch(*_args, **_kwargs):
        stop.set()  # the operator stops the service while the watch is failing
        raise OSError(28, "OS file watch limit reached")

    monkeypatch.setattr(watch.watchfiles, "watch", broken_watch)
    watch.watch_folders(lambda: settings, stop, lambda _name: None)  # returns: no hang
    assert stop.is_set()
