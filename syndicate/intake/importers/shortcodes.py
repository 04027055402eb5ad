"""Hugo shortcodes and Jekyll Liquid tags in Markdown, expanded the way the site
generator would, before the Markdown is rendered.

Hugo: ``figure``, ``youtube``, ``vimeo``, ``gist``, ``tweet``/``x``, ``highlight``,
``ref``/``relref``; Jekyll: ``highlight``, ``raw``, ``post_url``, ``link`` and the
``site.url``/``site.baseurl`` variables. Anything else is removed (a paired shortcode
keeps its inner text) with a warning naming it, so no template syntax reaches readers.
"""

from __future__ import annotations

import html
import re
import shlex

from syndicate.intake.importers.model import slugify

_HUGO_ESCAPED = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)
_HUGO = re.compile(r"\{\{([<%])\s*(/?)\s*([\w.-]+)(.*?)\s*[>%]\}\}", re.S)
_LIQUID_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)\s*-?%\}", re.S)
_LIQUID_VAR = re.compile(r"\{\{-?\s*([\w.]+)(?:\s*\|[^}]*)?\s*-?\}\}")
_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_LIQUID_HIGHLIGHT = re.compile(
    r"\{%-?\s*highlight\s+([\w+-]+)[^%]*%\}\n?(.*?)\{%-?\s*endhighlight\s*-?%\}", re.S
)
_LIQUID_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_DATED_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-(.+?)(?:\.\w+)?$")


def _arguments(raw: str) -> tuple[list[str], dict[str, str]]:
    """Positional and named shortcode arguments (``a "b c" key="v"``)."""
    try:
        words = shlex.split(raw)
    except ValueError:
        words = raw.split()
    positional = [w for w in words if "=" not in w]
    named = dict(w.split("=", 1) for w in words if "=" in w)
    return positional, named


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _figure(named: dict[str, str]) -> str:
    src = named.get("src", "")
    if not src:
        return ""
    image = f'<img src="{_attr(src)}" alt="{_attr(named.get("alt", ""))}">'
    if named.get("link"):
        image = f'<a href="{_attr(named["link"])}">{image}</a>'
    caption = named.get("caption") or named.get("title") or ""
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"\n<figure>{image}{caption_html}</figure>\n"


def _link(url: str) -> str:
    return f'\n<p><a href="{_attr(url)}">{html.escape(url)}</a></p>\n'


def _slug_link(target: str) -> str:
    """A link to another imported post: its slug, as a sibling of this article's page."""
    stem = target.strip().strip("\"'").rstrip("/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if stem not in ("index", "") else stem
    dated = _DATED_NAME.match(stem)
    slug = slugify(dated.group(1) if dated else stem)
    return f"../{slug}/" if slug else ""


def _hugo_single(name: str, positional: list[str], named: dict[str, str]) -> str | None:
    first = positional[0] if positional else ""
    if name == "figure":
        return _figure(named)
    if name == "youtube":
        video = named.get("id", first)
        return _link(f"https://www.youtube.com/watch?v={video}") if video else ""
    if name == "vimeo":
        video = named.get("id", first)
        return _link(f"https://vimeo.com/{video}") if video else ""
    if name == "gist" and len(positional) >= 2:
        return _link(f"https://gist.github.com/{positional[0]}/{positional[1]}")
    if name in ("tweet", "x"):
        user, post = named.get("user", ""), named.get("id", first)
        return _link(f"https://x.com/{user or 'i'}/status/{post}") if post else ""
    if name in ("ref", "relref"):
        return _slug_link(named.get("path", first))
    return None


def expand_hugo(text: str) -> tuple[str, list[str]]:
    warnings: list[str] = []
    escaped: list[str] = []

    def keep_escaped(match: re.Match[str]) -> str:
        escaped.append("{{" + match.group(1) + match.group(2) + match.group(3) + "}}")
        return f"\x00{len(escaped) - 1}\x00"

    text = _HUGO_ESCAPED.sub(keep_escaped, text)

    def highlight(match: re.Match[str]) -> str:
        positional, _ = _arguments(match.group(1))
        language = positional[0] if positional else ""
        return f"\n```{language}\n{match.group(2).strip(chr(10))}\n```\n"

    text = re.sub(
        r"\{\{[<%]\s*highlight(.*?)[>%]\}\}\n?(.*?)\{\{[<%]\s*/highlight\s*[>%]\}\}",
        highlight,
        text,
        flags=re.S,
    )

    def replace(match: re.Match[str]) -> str:
        closing, name, raw = match.group(2), match.group(3), match.group(4)
        if closing:
            return ""
        positional, named = _arguments(raw)
        expanded = _hugo_single(name, positional, named)
        if expanded is None:
            warnings.append(f"Hugo shortcode {name!r} has no equivalent here; removed")
            return ""
        return expanded

    text = _HUGO.sub(replace, text)
    return re.sub(r"\x00(\d+)\x00", lambda m: escaped[int(m.group(1))], text), warnings


def expand_liquid(text: str, variables: dict[str, str]) -> tuple[str, list[str]]:
    warnings: list[str] = []
    raws: list[str] = []

    def keep_raw(match: re.Match[str]) -> str:
        raws.append(match.group(1))
        return f"\x00{len(raws) - 1}\x00"

    text = _LIQUID_RAW.sub(keep_raw, text)
    text = _LIQUID_COMMENT.sub("", text)
    text = _LIQUID_HIGHLIGHT.sub(
        lambda m: f"\n```{m.group(1)}\n{m.group(2).strip(chr(10))}\n```\n", text
    )

    def tag(match: re.Match[str]) -> str:
        name, raw = match.group(1), match.group(2).strip()
        if name in ("post_url", "link"):
            return _slug_link(raw.split()[0] if raw else "")
        warnings.append(f"Liquid tag {{% {name} %}} has no equivalent here; removed")
        return ""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return variables[name]
        warnings.append(f"Liquid variable {{{{ {name} }}}} has no value here; removed")
        return ""

    text = _LIQUID_TAG.sub(tag, text)
    text = _LIQUID_VAR.sub(variable, text)
    return re.sub(r"\x00(\d+)\x00", lambda m: raws[int(m.group(1))], text), warnings
