"""The feed list: ``index.html`` (with autodiscovery links) and ``feeds.opml``.

Both depend only on which feeds exist (and the site's stylesheet), so they change when
the config or the set of tags does, never on a plain rebuild. The page lists each feed
with its description, formats and a selectable URL (and a Copy button with script), and
links each digest's subscribe page and archive.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lxml import etree
from markupsafe import Markup

from syndicate.core.config import Settings
from syndicate.core.i18n import translator
from syndicate.core.render import render, template_source
from syndicate.feeds import formats
from syndicate.feeds.model import FeedSpec

# The Copy buttons: shown only when script runs (without it the URL field is there to
# select). The web app serves the page with this script's hash in its CSP.
COPY_SCRIPT = (
    'document.querySelectorAll("button.copy").forEach(function (button) {'
    " button.hidden = false;"
    ' button.addEventListener("click", function () {'
    " var field = button.previousElementSibling; field.select();"
    ' var done = function () { button.textContent = "Copied"; };'
    " if (navigator.clipboard) {"
    " navigator.clipboard.writeText(button.dataset.url).then(done, function () {"
    ' document.execCommand("copy"); done(); });'
    ' } else { document.execCommand("copy"); done(); }'
    " }); });"
)
COPY_SCRIPT_CSP = (
    "'sha256-" + base64.b64encode(hashlib.sha256(COPY_SCRIPT.encode()).digest()).decode() + "'"
)


@dataclass(frozen=True)
class _Link:
    label: str
    type: str
    href: str


def _media_type(fmt: str) -> str:
    return formats.get(fmt).media_type


def _feed(spec: FeedSpec) -> dict[str, Any]:
    links = [
        _Link(formats.get(f).label, _media_type(f), spec.url(spec.path, f)) for f in spec.formats
    ]
    return {
        "title": spec.title,
        "description": spec.description if spec.description != spec.title else "",
        "podcast": spec.podcast is not None,
        "formats": links,
    }


def _style(settings: Settings, name: str) -> str:
    """A stylesheet's text for a ``<style>`` element: nothing in it can end the element."""
    return template_source(settings.templates_dir, f"web/{name}").replace("</", "<\\/")


def render_index(settings: Settings, feeds: list[FeedSpec], tag_feeds: list[FeedSpec]) -> bytes:
    """The feed list page, styled by the site's stylesheet (``web/web.css`` and
    ``web/feeds.css``, the operator's own first), inlined so any host can serve it."""
    site = settings.site
    base = settings.web_base_url
    t = translator(site.language, settings.templates_dir)
    groups: list[dict[str, Any]] = [{"heading": None, "feeds": [_feed(spec) for spec in feeds]}]
    if tag_feeds:
        groups.append({"heading": t.gettext("By tag"), "feeds": [_feed(s) for s in tag_feeds]})
    digests = [
        {
            "title": digest.title,
            "description": digest.description,
            "subscribe": f"{base}subscribe?digest={quote(digest.name)}",
            "archive": f"{base}digests/{quote(digest.name)}/",
        }
        for digest in settings.digests
    ]
    discovery = [
        _Link(
            f"{spec.title} ({formats.get(fmt).label})", _media_type(fmt), spec.url(spec.path, fmt)
        )
        for spec in feeds
        for fmt in spec.formats
    ]
    page = render(
        settings.templates_dir,
        "web/feeds_index.html",
        language=site.language,
        site=site,
        discovery=discovery,
        groups=groups,
        digests=digests,
        opml=site.public_feeds_url + "feeds.opml",
        stylesheet=Markup(_style(settings, "web.css")),  # noqa: S704 - no "</" left
        feeds_css=Markup(_style(settings, "feeds.css")),  # noqa: S704 - no "</" left
        script=Markup(COPY_SCRIPT),  # noqa: S704 - a constant
    )
    return page.encode("utf-8")


def render_opml(settings: Settings, feeds: list[FeedSpec]) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"Feeds: {settings.site.title}"
    body = etree.SubElement(root, "body")
    for spec in feeds:
        fmt = next((f for f in formats.FORMATS if f in spec.formats), None)
        if fmt is None:
            continue
        etree.SubElement(
            body,
            "outline",
            type="rss",
            text=spec.title,
            title=spec.title,
            xmlUrl=spec.url(spec.path, fmt),
            htmlUrl=spec.home_url,
        )
    return bytes(etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True))
