"""The feeds' containment pass over stored HTML keeps the import-time policy,
including which hosts may embed iframes."""

from __future__ import annotations

import pytest

from syndicate.articles import Article
from syndicate.core.config import Settings
from syndicate.feeds.model import feed_spec, make_entry
from tests.support.feeds import START


@pytest.fixture
def config_extra() -> str:
    return '[[feeds]]\nname = "all"\npath = "all"\n'


BODY = (
    '<p>Watch <a href="/about/">this</a>:</p>'
    '<iframe src="https://www.youtube.com/embed/abc" width="560">fallback</iframe>'
    '<iframe src="https://evil.example.com/frame">text</iframe>'
    "<p>after&nbsp;it</p>"
)


def _content(settings: Settings, hosts: list[str]) -> str:
    site = settings.site.model_copy(update={"iframe_hosts": hosts})
    spec = feed_spec(settings.model_copy(update={"site": site}), settings.feeds[0])
    article = Article(
        id=1,
        uid="tag:news.example.org,2026:a",
        slug="a",
        title="A",
        summary="",
        content_html=BODY,  # written by other means than the importer
        content_text="Watch this.",
        published_at=START,
        updated_at=START,
    )
    content = make_entry(article, spec).content_html
    assert content is not None
    return content


def test_iframes_only_from_configured_hosts(settings: Settings) -> None:
    content = _content(settings, ["YouTube.com"])
    assert '<iframe src="https://www.youtube.com/embed/abc" width="560"></iframe>' in content
    assert "evil.example.com" not in content
    assert "fallback" not in content and "text" not in content
    assert 'href="https://news.example.org/about/"' in content
    assert "after\u00a0it" in content


def test_no_iframes_without_configured_hosts(settings: Settings) -> None:
    content = _content(settings, [])
    assert "iframe" not in content and "youtube" not in content


def test_titles_keep_no_break_spaces_like_the_importer() -> None:
    from syndicate.feeds.model import plain_text

    assert plain_text("Route\u00a04  reopens\n<b>today</b>") == "Route\u00a04 reopens today"
    assert plain_text("10\u00a0km \t closed") == "10\u00a0km closed"
