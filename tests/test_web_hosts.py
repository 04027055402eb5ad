"""The Host header is never reflected: redirects are path-only, other hosts are ours."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from syndicate.core.config import load_settings
from syndicate.service.context import App
from syndicate.web import create_app
from syndicate.web.hosts import is_trusted
from tests.test_web import DIGESTS

EVIL = "evil.example"


@pytest.fixture
def config_extra() -> str:
    return 'allowed_hosts = ["www.news.example.org", "127.0.0.1:8080"]\n' + DIGESTS


@pytest.fixture
def client(app: App) -> FlaskClient:
    (app.settings.feeds_dir / "sub").mkdir(parents=True, exist_ok=True)
    return create_app(app).test_client()


REDIRECTING = ["/feeds", "/digests/weekly", "/feeds?x=1", "/digests/daily?a=b"]


@pytest.mark.parametrize("path", REDIRECTING)
@pytest.mark.parametrize(
    "host", [EVIL, f"{EVIL}:443", "news.example.org.evil.example", "user@evil.example", "[::1]"]
)
def test_redirects_never_carry_the_host(client: FlaskClient, path: str, host: str) -> None:
    answer = client.get(path, headers={"Host": host})
    assert answer.status_code in (301, 308)
    location = answer.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "::1" not in location


def test_forwarded_host_is_not_reflected_behind_a_proxy(
    settings, clock, config_file, tmp_path
) -> None:
    text = config_file.read_text().replace("[web]\n", "[web]\nproxies = 1\n", 1)
    config_file.write_text(text)
    app = App(load_settings(config_file), clock=clock)
    try:
        answer = (
            create_app(app)
            .test_client()
            .get("/feeds", headers={"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"})
        )
    finally:
        app.close()
    assert answer.status_code == 308 and EVIL not in answer.headers["Location"]


def test_an_unknown_host_is_answered_as_the_base_url_host(client: FlaskClient) -> None:
    """A view that reads request.host sees only a configured host."""
    from flask import request

    app = client.application
    seen: list[str] = []

    @app.before_request
    def record() -> None:
        seen.append(request.host)

    for host in (EVIL, "www.news.example.org", "127.0.0.1:8080", "NEWS.example.org:443"):
        client.get("/healthz", headers={"Host": host})
    assert seen == [
        "news.example.org",
        "www.news.example.org",
        "127.0.0.1:8080",
        "NEWS.example.org:443",
    ]


@pytest.mark.parametrize(
    ("origin", "trusted"),
    [
        ("news.example.org", True),
        ("news.example.org:443", True),
        ("www.news.example.org", True),
        ("evil.example", False),
        ("news.example.org.evil.example", False),
        ("news.example.org:8443", False),
    ],
)
def test_trusted_hosts(settings, origin: str, trusted: bool) -> None:
    assert is_trusted(origin, settings) is trusted
