"""``digest preview``: readable text, and the HTML in a browser as the subscriber sees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from syndicate.service.context import App
from tests.support.digests import DIGEST_CONFIG, add_dated_article
from tests.test_digest_cli import SLOT, run, subscribe

TITLE = "Trams at night: what’s changing"  # a curly quote: quoted-printable in the MIME
AT = "2026-03-02T10:00"


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


@pytest.fixture
def with_article(app: App) -> App:
    add_dated_article(
        app, TITLE, SLOT - timedelta(days=1), summary="Fares stay at 8 hryvnias — for now."
    )
    subscribe(app, "ann@example.org", "Ann")
    return app


def _interruptible() -> None:
    # Ctrl-C as a terminal sends it: a suite started in the background (`cmd &` from a
    # script) hands its children SIGINT ignored, and Python then keeps ignoring it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def syndicate(config: Path, *args: str, **kwargs) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_interruptible,
        **kwargs,
    )


def test_default_and_text_are_readable_not_quoted_printable(
    with_article: App, config_file: Path
) -> None:
    code, output = run(config_file, "digest", "preview", "weekly", "--at", AT)
    assert code == 0, output
    assert "Subject: Test News weekly: 2026-03-02" in output
    assert TITLE in output and "— for now." in output
    assert "=E2=80" not in output and "Content-Transfer-Encoding" not in output

    code, text = run(config_file, "digest", "preview", "weekly", "--at", AT, "--text")
    assert code == 0 and TITLE in text and "Subject:" not in text and "=E2=80" not in text
    assert "Preferences: https://news.example.org/preferences/" in text  # personalised

    code, raw = run(config_file, "digest", "preview", "weekly", "--at", AT, "--raw")
    assert code == 0 and "Content-Type: multipart/alternative" in raw and "=E2=80" in raw


def test_open_hands_the_personal_html_to_the_browser(
    with_article: App, config_file: Path, tmp_path: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"  # $BROWSER, as webbrowser documents it
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    process = syndicate(
        config_file, "digest", "preview", "weekly", "--at", AT,
        "--subscriber", "ann@example.org", "--open",
        env={**os.environ, "BROWSER": str(browser)},
    )  # fmt: skip
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    url = opened.read_text(encoding="utf-8").strip()
    assert url.startswith("file:///") and url.endswith(".html")
    html = Path(url.removeprefix("file://")).read_text(encoding="utf-8")
    assert TITLE in html and "@@" not in html and "/unsubscribe/" in html
    assert f"opened {url.removeprefix('file://')}" in out


def test_serve_shows_the_html_on_loopback_until_interrupted(
    with_article: App, config_file: Path
) -> None:
    process = syndicate(config_file, "digest", "preview", "weekly", "--at", AT, "--serve")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving the HTML part at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert TITLE in response.text and "@@" not in response.text
        assert requests.get(url + "other", timeout=10).status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_an_empty_send_says_where_newer_articles_go(app: App, config_file: Path) -> None:
    code, output = run(config_file, "digest", "send", "weekly")
    assert code == 0, output
    assert "is empty: no new articles in the period; articles published after " in output
    assert "go into the next edition (" in output
