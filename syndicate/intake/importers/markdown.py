"""Markdown articles: YAML or TOML front matter, then CommonMark with tables and footnotes."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from syndicate.core.errors import ImportFailure
from syndicate.core.sanitize import normalize_space
from syndicate.intake.importers.frontmatter import apply_front_matter, split_front_matter
from syndicate.intake.importers.model import ParsedArticle


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML is allowed as CommonMark says; the sanitiser cleans the result.
    # No typographer: the author's characters are kept as written.
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .enable("strikethrough")
        .use(footnote_plugin)
    )


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content if child.type != "html_inline" else "")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return normalize_space("".join(parts))


def _leading_h1(tokens: list[Token]) -> tuple[str, int] | None:
    """The text of an ``# h1`` that opens the document and how many tokens it spans."""
    if len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        return _inline_text(tokens[1]), 3
    return None


def parse_markdown(text: str, name: str, tz: ZoneInfo) -> ParsedArticle:
    """Parse a Markdown article; the title is the front-matter title or the leading ``# h1``."""
    front, body, offset = split_front_matter(text, name)
    article = ParsedArticle(title="", body_html="", fmt="markdown")
    if front is not None:
        apply_front_matter(article, front, name, tz)
    md = _markdown()
    env: dict[str, Any] = {}
    try:
        tokens = md.parse(body, env)
    except RecursionError:
        raise ImportFailure(name, "Markdown is nested too deeply to read") from None
    heading = _leading_h1(tokens)
    if heading is not None:
        heading_text, span = heading
        if not article.title:
            article.title = heading_text
        if heading_text == article.title:
            tokens = tokens[span:]  # the title is shown by the feed or page, not twice
    if not article.title:
        raise ImportFailure(
            name,
            "no title: add `title:` to the front matter or start with a `# Heading`",
            line=offset + 1,
        )
    article.body_html = md.renderer.render(tokens, md.options, env)
    return article
