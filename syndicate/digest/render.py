"""An edition's subject, HTML and text: Jinja once, then premailer once.

(``messages.edition_content`` turns the result or a stored row into message content.)

premailer only ever sees rendered HTML (it would mangle ``{{ }}`` and ``{% %}``).
The per-recipient values stay literal placeholders (``@@unsubscribe_url@@``...) that
both Jinja's escaping and premailer leave alone; article text is data, never template
source, so ``{{``, ``{%`` and ``%`` in an article come through as text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from premailer import Premailer

from syndicate.articles import Article
from syndicate.core.config import DigestSettings, Settings
from syndicate.core.errors import DigestError
from syndicate.core.i18n import long_date, short_date, translator
from syndicate.core.render import render, render_string
from syndicate.delivery.messages import PLACEHOLDERS, header_value
from syndicate.digest.check import CheckResult, presend_check
from syndicate.digest.windows import edition_date

_PREHEADER_TITLES = 3


@dataclass(frozen=True)
class RenderedEdition:
    """A rendered, inlined edition that is not necessarily stored (preview, test send)."""

    subject: str
    html: str
    text: str
    check: CheckResult


def view_url(settings: Settings, name: str, date: str) -> str:
    """The edition's public page: ``<web base_url>digests/<name>/<YYYY-MM-DD>``."""
    return f"{settings.web_base_url}digests/{name}/{date}"


# With ``marked`` (an edition of a digest with reader choices) each article's block is
# fenced by these comments and the values that depend on the article set are slots, so
# digest/variants.py cuts every reader's variant from one inlined render.
_BEGIN = Markup("<!--@@article:{}@@-->")  # literal markup: the id is an int
_END = Markup("<!--@@/article@@-->")
ARTICLE_BEGIN, ARTICLE_END = str(_BEGIN), str(_END)
SLOTS = {key: f"@@v:{key}@@" for key in ("subject", "preheader", "count_label")}
NUMBER = "@@v:number@@"  # an article's place in the list, counted again after a cut
_NO_MARK = Markup("")


def count_label(settings: Settings, digest: DigestSettings, count: int) -> str:
    """``3 new articles``: the line under the title, in the digest's plural forms."""
    t = translator(settings.digest_language(digest), settings.templates_dir)
    return t.ngettext("%(num)d new article", "%(num)d new articles", count) % {"num": count}


def preheader(titles: Sequence[str]) -> str:
    return " · ".join(titles[:_PREHEADER_TITLES])


def _article_context(
    article: Article,
    settings: Settings,
    tz: Any,
    number: int,
    *,
    language: str,
    marked: bool = False,
) -> dict[str, Any]:
    return {
        "number": NUMBER if marked else number,
        "begin": _BEGIN.format(int(article.id)) if marked else _NO_MARK,
        "end": _END if marked else _NO_MARK,
        "title": article.title,
        "url": article.url(settings.site.url),
        "summary": article.summary,
        "image_url": article.image_url,
        "image_alt": article.title,
        "author": article.author_name,
        "published": short_date(article.published_at.astimezone(tz), language),
        "published_at": article.published_at,
        "tags": article.tags,
    }


def template_context(
    settings: Settings,
    digest: DigestSettings,
    articles: Sequence[Article],
    *,
    slot: datetime,
    more_count: int,
    marked: bool = False,
) -> dict[str, Any]:
    """Everything the subject, HTML and text templates may use (``marked``: see SLOTS)."""
    tz = settings.digest_timezone(digest)
    language = settings.digest_language(digest)
    date = edition_date(slot, tz)
    local = slot.astimezone(tz)
    url = view_url(settings, digest.name, date)
    edition = {
        "date": date,
        "date_long": long_date(local, language),
        "slot": local,
        "count": len(articles),
        "more_count": more_count,
        "total_count": len(articles) + more_count,
        "count_label": SLOTS["count_label"]
        if marked
        else count_label(settings, digest, len(articles) + more_count),
        "more_url": settings.site.url,
        "view_url": url,
    }
    items = [
        _article_context(article, settings, tz, number, language=language, marked=marked)
        for number, article in enumerate(articles, 1)
    ]
    return {
        "site": settings.site,
        "language": language,
        "digest": digest,
        "edition": edition,
        "articles": items,
        "links": {
            "view": url,
            "unsubscribe": PLACEHOLDERS[0],
            "preferences": PLACEHOLDERS[1],
            "name": PLACEHOLDERS[2],
            "email": PLACEHOLDERS[3],
            "feed": PLACEHOLDERS[4] if digest.shows_feed_link else "",
        },
        "preheader": SLOTS["preheader"] if marked else preheader([i["title"] for i in items]),
    }


def render_subject(digest: DigestSettings, context: dict[str, Any]) -> str:
    """The digest's subject template over ``context`` (one header line)."""
    return header_value(
        render_string(digest.subject, label=f"digest {digest.name!r} subject", **context)
    )


def inline_css(html: str) -> str:
    """premailer, configured once: no network, ``!important`` kept, ``@media`` kept."""
    try:
        inlined: str = Premailer(
            html,
            allow_network=False,
            strip_important=False,
            keep_style_tags=False,  # inlined rules go; @media and pseudo rules stay
            remove_classes=False,  # the @media rules still need the classes
            # Keep the template's width/height attributes (Outlook sizes images by
            # them); premailer would overwrite them with CSS values like "100%"/"auto".
            disable_basic_attributes=["width", "height"],
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=False)
    except Exception as exc:  # premailer raises bare errors on broken CSS
        raise DigestError(f"cannot inline the edition's CSS: {exc}") from None
    return inlined


def render_edition(
    settings: Settings,
    digest: DigestSettings,
    articles: Sequence[Article],
    *,
    slot: datetime,
    more_count: int = 0,
    marked: bool = False,
) -> RenderedEdition:
    """Render one edition (subject, inlined HTML, text) without storing anything.

    ``marked``: the HTML keeps article fences and SLOTS (the source of variants)."""
    context = template_context(settings, digest, articles, slot=slot, more_count=more_count)
    subject = render_subject(digest, context)
    templates = settings.templates_dir
    if marked:
        context = template_context(
            settings, digest, articles, slot=slot, more_count=more_count, marked=True
        )
        html = render(templates, digest.html_template, subject=SLOTS["subject"], **context)
        text = render(templates, digest.text_template, subject=SLOTS["subject"], **context)
        inlined = inline_css(html)
        return RenderedEdition(
            subject=subject, html=inlined, text=text, check=presend_check(inlined)
        )
    html = render(templates, digest.html_template, subject=subject, **context)
    text = render(templates, digest.text_template, subject=subject, **context)
    inlined = inline_css(html)
    return RenderedEdition(
        subject=subject,
        html=inlined,
        text=text,
        check=presend_check(inlined, text),
    )
