"""The built-in feed formats: one ``register`` line each.

Kept apart from ``formats.py`` because the declarations import the renderers and the
lint, which themselves import the model (and the model needs the registry's file
names): the package's ``__init__`` imports this module, so the formats are there
whenever anything in ``syndicate.feeds`` is used.
"""

from __future__ import annotations

from syndicate.feeds import lint
from syndicate.feeds.atom import ATOM_TYPE, render_atom
from syndicate.feeds.formats import FeedFormat, RenderInput, register
from syndicate.feeds.generator import make_generator
from syndicate.feeds.jsonfeed import render_json
from syndicate.feeds.rss import ATOM_NS, RSS_TYPE, render_rss


def _rss(source: RenderInput) -> bytes:
    return render_rss(source.shared("feedgen", make_generator))


def _atom(source: RenderInput) -> bytes:
    return render_atom(source.shared("feedgen", make_generator))


def _json(source: RenderInput) -> bytes:
    return render_json(source.page, source.entries)


# Order matters: it is the order of the feed list's links and of the OPML preference.
register(FeedFormat("rss", "rss.xml", RSS_TYPE, "RSS", _rss, lint.lint_rss, xml_root="rss"))
register(
    FeedFormat("atom", "atom.xml", ATOM_TYPE, "Atom", _atom, lint.lint_atom, f"{{{ATOM_NS}}}feed")
)
register(
    FeedFormat("json", "feed.json", "application/feed+json", "JSON Feed", _json, lint.lint_json)
)
