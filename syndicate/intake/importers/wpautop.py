"""WordPress's ``wpautop``: classic-editor post text -> paragraphs, as WordPress shows it.

Classic posts are stored with blank lines for paragraphs and single newlines for line
breaks; WordPress adds ``<p>`` and ``<br />`` when it renders them. This is a port of
``wpautop()`` from wp-includes/formatting.php (block-editor posts are stored as HTML
and skip it, as WordPress does), plus the ``[caption]`` and ``[embed]`` shortcodes
WordPress expands on the same content.
"""

from __future__ import annotations

import re

_BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre"
    r"|form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section"
    r"|article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)"
)
_PRE = re.compile(r"<pre[\s>].*?</pre>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_RAW = re.compile(r"<(script|style|svg)[\s>].*?</\1>", re.S | re.I)
_NEWLINE_MARK = " <!-- wpnl --> "
_CAPTION = re.compile(r"\[caption([^\]]*)\](.*?)\[/caption\]", re.S | re.I)
_CAPTION_MEDIA = re.compile(r"^\s*((?:<a [^>]*>\s*)?<img [^>]*>(?:\s*</a>)?)(.*)$", re.S | re.I)
_CAPTION_ATTR = re.compile(r'caption="([^"]*)"', re.I)
_EMBED = re.compile(r"\[embed[^\]]*\](.*?)\[/embed\]", re.S | re.I)


def is_block_content(text: str) -> bool:
    """Block-editor (Gutenberg) content: stored as finished HTML, no autop."""
    return "<!-- wp:" in text


def expand_shortcodes(text: str) -> str:
    """``[caption]`` -> ``<figure>`` with ``<figcaption>``; ``[embed]URL`` -> a link."""

    def caption(match: re.Match[str]) -> str:
        attrs, inner = match.group(1), match.group(2)
        found = _CAPTION_MEDIA.match(inner)
        if not found:
            return inner
        media, text = found.group(1), found.group(2).strip()
        if not text:
            attr = _CAPTION_ATTR.search(attrs)
            text = attr.group(1) if attr else ""
        caption_html = f"<figcaption>{text}</figcaption>" if text else ""
        return f"<figure>{media}{caption_html}</figure>"

    text = _CAPTION.sub(caption, text)
    return _EMBED.sub(
        lambda m: f'<p><a href="{m.group(1).strip()}">{m.group(1).strip()}</a></p>', text
    )


def wpautop(text: str, br: bool = True) -> str:
    """Paragraphs and line breaks from blank lines and newlines, WordPress's way."""
    if not text.strip():
        return ""
    pres: list[str] = []

    def keep_pre(match: re.Match[str]) -> str:
        pres.append(match.group(0))
        return f"<pre wp-pre-tag-{len(pres) - 1}></pre>"

    text = _PRE.sub(keep_pre, text + "\n")
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(rf"(<{_BLOCKS}[\s/>])", r"\n\n\1", text)
    text = re.sub(rf"(</{_BLOCKS}>)", r"\1\n\n", text)
    text = re.sub(r"<hr\s*?/?>", "<hr />\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TAG.sub(lambda m: m.group(0).replace("\n", _NEWLINE_MARK), text)
    text = re.sub(r"\s*<option", "<option", text)
    text = re.sub(r"</option>\s*", "</option>", text)
    text = re.sub(r"\n\n+", "\n\n", text)
    pieces = re.split(r"\n\s*\n", text)
    text = "".join(f"<p>{piece.strip(chr(10))}</p>\n" for piece in pieces if piece.strip())
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(rf"<p>\s*(</?{_BLOCKS}[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.I)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(rf"<p>\s*(</?{_BLOCKS}[^>]*>)", r"\1", text)
    text = re.sub(rf"(</?{_BLOCKS}[^>]*>)\s*</p>", r"\1", text)
    if br:
        text = _RAW.sub(lambda m: m.group(0).replace("\n", "<WPPreserveNewline />"), text)
        text = re.sub(r"<br>|<br/>", "<br />", text)
        text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
        text = text.replace("<WPPreserveNewline />", "\n")
    text = re.sub(rf"(</?{_BLOCKS}[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text)
    text = re.sub(r"\n</p>$", "</p>", text)
    for index, pre in enumerate(pres):
        text = text.replace(f"<pre wp-pre-tag-{index}></pre>", pre)
    return text.replace(_NEWLINE_MARK, "\n")


def render_post(content: str) -> str:
    """A WordPress post's stored content as WordPress renders it."""
    if is_block_content(content):
        return expand_shortcodes(content)
    return wpautop(expand_shortcodes(content))
