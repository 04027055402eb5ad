"""[stats] clicks = "aggregate": signed /r/ redirects counted per link per edition."""

from __future__ import annotations

import email
import re
import urllib.parse
from email import policy

import pytest
from flask import Flask
from sqlalchemy import select

from syndicate.core.clock import FixedClock
from syndicate.core.db import link_clicks
from syndicate.delivery import clicks
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support.console import DIGESTS, MONDAY, browser, make_operator, seed

BASE = "https://news.example.org"


@pytest.fixture
def config_extra() -> str:
    return DIGESTS + '\n[stats]\nclicks = "aggregate"\n'


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    return create_app(app)


def html_parts(app: App) -> list[str]:
    folder = app.settings.resolve(app.settings.mail.maildir) / "new"
    return [
        email.message_from_bytes(f.read_bytes(), policy=policy.default)
        .get_body(("html",))
        .get_content()
        for f in sorted(folder.iterdir())
    ]


def test_outside_links_are_rewritten_the_same_for_everyone(app: App, flask: Flask) -> None:
    seed(app)  # two readers got the edition
    first, second = html_parts(app)
    hrefs = re.findall(r'href="([^"]+)"', first)
    counted = [h for h in hrefs if h.startswith(f"{BASE}/r/")]
    assert counted, hrefs
    outside = [h for h in hrefs if not h.startswith(BASE)]
    assert outside == []  # every link leaves through a counted redirect...
    assert any("/unsubscribe/" in h for h in hrefs)  # ...but our own pages stay direct
    assert counted == [h for h in re.findall(r'href="([^"]+)"', second) if "/r/" in h]


def test_a_click_redirects_to_the_signed_url_and_counts_it(app: App, flask: Flask) -> None:
    ids = seed(app)
    [link, *_] = [h for h in re.findall(r'href="([^"]+)"', html_parts(app)[0]) if "/r/" in h]
    client = flask.test_client()
    path = link.removeprefix(BASE)
    edition_id, target = clicks.resolve(flask.extensions["syndicate"].signer,
                                        path.removeprefix("/r/"), MONDAY)  # fmt: skip
    assert edition_id == ids["edition_id"]
    for _ in range(2):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == target
    client.head(path)  # a scanner's HEAD is not a click
    with app.engine.connect() as conn:
        assert clicks.top_links(conn, edition_id) == [(target, 2)]
        columns = {c.name for c in link_clicks.columns}
    assert columns == {"edition_id", "url_hash", "url", "clicks"}  # nothing about who
    viewer = browser(flask, app, make_operator(app, "v@example.org", "viewer"))
    page = viewer.get(f"/admin/editions/{edition_id}").text
    assert f"<td>{target}</td><td>2</td>" in page


def test_tokens_pointing_elsewhere_are_refused(app: App, flask: Flask) -> None:
    seed(app)
    signer = flask.extensions["syndicate"].signer
    client = flask.test_client()
    good = signer.make("click", "1|https://news.example.org/a", clicks.NEVER)
    mac = good.split(".")[1]
    other = signer.make("click", "1|https://evil.example/", clicks.NEVER).split(".")[0]
    hostile = [
        f"{other}.{mac}",  # another URL under a valid MAC
        signer.make("unsubscribe", "1", clicks.NEVER),  # a token for another purpose
        signer.make("click", "1|javascript:alert(1)", clicks.NEVER),
        signer.make("click", "x|https://evil.example/", clicks.NEVER),
        "garbage",
        good + "x",
    ]
    for token in hostile:
        answer = client.get(f"/r/{token}")
        assert answer.status_code == 400, token
        assert "Location" not in answer.headers
    with app.engine.connect() as conn:
        assert conn.execute(select(link_clicks)).all() == []


def test_counting_off_leaves_links_alone(app: App) -> None:
    settings = app.settings.model_copy(
        update={"stats": app.settings.stats.model_copy(update={"clicks": "off"})}
    )
    app.settings = settings
    seed(app)
    hrefs = re.findall(r'href="([^"]+)"', html_parts(app)[0])
    assert not any("/r/" in h for h in hrefs)


def test_non_ascii_links_are_sent_as_uris_whose_tokens_fit(app: App, flask: Flask) -> None:
    """A Cyrillic link is signed percent-encoded (its token fits, /r/ redirects); a link
    whose token would still be too long is left as it is rather than broken."""
    signer = flask.extensions["syndicate"].signer
    cyrillic = "https://ru.wikipedia.org/wiki/" + "Москва_столица" * 3
    idn = "https://пример.рф/новости?q=весна"
    huge = "https://ru.wikipedia.org/wiki/" + "Я" * 100  # 130 characters, 630 as a URI
    page = "".join(f'<a href="{url}">x</a>' for url in (cyrillic, idn, huge))
    hrefs = re.findall(r'href="([^"]+)"', clicks.rewrite(page, edition_id=7, settings=app.settings, signer=signer))  # fmt: skip
    assert hrefs[2] == huge
    client = flask.test_client()
    for href, url in zip(hrefs[:2], (cyrillic, idn), strict=True):
        assert href.startswith(f"{BASE}/r/")
        answer = client.get(href.removeprefix(BASE))
        assert answer.status_code == 302, url
        location = answer.headers["Location"]
        assert location.isascii()
        assert location == clicks.as_uri(url)
    assert urllib.parse.unquote(clicks.as_uri(cyrillic)) == cyrillic
    assert (
        clicks.as_uri(idn)
        == "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8?q=%D0%B2%D0%B5%D1%81%D0%BD%D0%B0"
    )
