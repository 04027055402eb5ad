"""``web.admin_listen``: the console on its own address, and nowhere else (a real
`syndicate serve` on loopback, asked over HTTP)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from syndicate.core.config import load_settings
from syndicate.core.errors import ConfigError
from tests.support import write_config
from tests.support.processes import SyndicateProcess


def get(url: str) -> tuple[int, str]:
    answer = requests.get(url, timeout=20, allow_redirects=False)
    return answer.status_code, answer.text


def config_with(tmp_path: Path, admin_listen: str) -> Path:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    config.write_text(
        config.read_text().replace(
            'listen = "127.0.0.1:0"',
            f'listen = "127.0.0.1:0"\nadmin_listen = "{admin_listen}"',
        )
    )
    return config


def test_the_console_answers_only_on_its_own_address(tmp_path: Path) -> None:
    service = SyndicateProcess(config_with(tmp_path, "127.0.0.1:0"), "serve")
    try:
        public = re.search(r"web app on (http://127\.0\.0\.1:\d+)/", service.wait_for("web app on"))
        console = re.search(
            r"console on (http://127\.0\.0\.1:\d+)/admin/", service.wait_for("console on")
        )
        assert public and console
        public_url, console_url = public.group(1), console.group(1)
        assert public_url != console_url

        # The public listener: its pages, and nothing under /admin/.
        assert get(public_url + "/subscribe")[0] == 200
        for path in ("/admin/", "/admin/login", "/admin/subscribers"):
            assert get(public_url + path)[0] == 404, path

        # The console's listener: the login page (and its stylesheet), no public page.
        status, page = get(console_url + "/admin/login")
        assert status == 200 and 'name="password"' in page
        to_login = requests.get(console_url + "/admin/", timeout=20, allow_redirects=False)
        assert to_login.status_code == 303 and "/admin/login" in to_login.headers["Location"]
        assert get(console_url + "/assets/admin.css")[0] == 200
        for path in ("/", "/subscribe", "/feeds/", "/api/v1/subscribers", "/metrics"):
            assert get(console_url + path)[0] == 404, path
    finally:
        service.stop()


def test_without_it_the_console_is_on_the_main_address(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    service = SyndicateProcess(config, "serve")
    try:
        found = re.search(r"web app on (http://127\.0\.0\.1:\d+)/", service.wait_for("web app on"))
        assert found
        status, page = get(found.group(1) + "/admin/login")
        assert status == 200 and 'name="password"' in page
        assert get(found.group(1) + "/subscribe")[0] == 200
        assert not any("console on" in line for line in service.lines)
    finally:
        service.stop()


@pytest.mark.parametrize(
    ("value", "problem"),
    [("8081", "is not host:port"), ("127.0.0.1:8080", "another port")],
)
def test_a_bad_admin_listen_is_named(tmp_path: Path, value: str, problem: str) -> None:
    config = config_with(tmp_path, value)
    config.write_text(
        config.read_text().replace('listen = "127.0.0.1:0"\n', 'listen = "127.0.0.1:8080"\n', 1)
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    shown = " ".join([raised.value.message, *raised.value.problems])
    assert "admin_listen" in shown and problem in shown, shown
