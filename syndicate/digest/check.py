"""The pre-send check: what would make an edition break in a mail client or land in spam,
caught before sending.

Each problem is a ``Finding`` with a severity and the next step. Errors (the edition is
not stored or sent): a relative link or image (nothing to resolve it against in a
mailbox), an image without ``alt``, no visible unsubscribe link in the HTML or the text
part (a bulk-sender requirement of Gmail and Yahoo). Warnings: the HTML part is past
Gmail's ~102 KB clipping size once encoded with the per-recipient links filled in;
images with little text, measured as SpamAssassin does (``HTML_IMAGE_ONLY_*``: images
in under 3,200 bytes of HTML; ``HTML_IMAGE_RATIO_*``: visible non-space characters per
pixel of image area, from the width/height attributes, 200x200 when missing); links
through URL shorteners.
The SpamAssassin score itself is ``digest.spamscore`` (``syndicate digest check``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from syndicate.delivery.messages import PLACEHOLDERS, encoded_part_size
from syndicate.digest.shorteners import is_shortened

GMAIL_CLIP_BYTES = 102 * 1024
# A filled-in signed unsubscribe/preferences URL or address is about this long.
_PLACEHOLDER_ALLOWANCE = 160
_FILLED = {p.strip("@"): "x" * _PLACEHOLDER_ALLOWANCE for p in PLACEHOLDERS}
# SpamAssassin's HTML_IMAGE_ONLY_04 .. _32 rules: images in at most this much HTML.
IMAGE_ONLY_HTML_BYTES = 3200
# SpamAssassin's lowest HTML_IMAGE_RATIO band: under 1 character per 500 px² of image.
MIN_TEXT_PER_IMAGE_PIXEL = 0.002
_GUESSED_SIDE = 200  # SpamAssassin's guess for an image without width/height
_ABSOLUTE_SCHEMES = ("https://", "http://", "mailto:", "tel:")
_UNSUBSCRIBE = "@@unsubscribe_url@@"
_HIDDEN_STYLES = ("display:none", "visibility:hidden")


@dataclass(frozen=True)
class Finding:
    """One problem: ``severity`` is error (not sent), warning or info."""

    severity: str
    code: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class CheckResult:
    """Findings about one edition; ``ok`` when there is no error."""

    findings: list[Finding] = field(default_factory=list)
    html_bytes: int = 0
    estimated_bytes: int = 0  # the HTML part as sent: links filled in, then encoded
    text_chars: int = 0  # visible, non-space
    images: int = 0
    image_area: int = 0  # pixels, as SpamAssassin estimates them

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.severity == "warning"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "html_bytes": self.html_bytes,
            "estimated_html_part_bytes": self.estimated_bytes,
            "text_chars": self.text_chars,
            "images": self.images,
            "image_area": self.image_area,
            "findings": [f.as_dict() for f in self.findings],
        }


def _is_absolute(url: str) -> bool:
    url = url.strip()
    return url.lower().startswith(_ABSOLUTE_SCHEMES) or url in PLACEHOLDERS


def _hidden(element: etree._Element) -> bool:
    """Whether an inline style on the element or an ancestor hides it."""
    for node in (element, *element.iterancestors()):
        style = (node.get("style") or "").replace(" ", "").lower()
        if any(rule in style for rule in _HIDDEN_STYLES):
            return True
    return False


def _visible_text(root: etree._Element) -> str:
    """The text a reader sees: no head, style, script or hidden elements."""
    body = root.find("body")
    parts: list[str] = []
    for element in (body if body is not None else root).iter():
        # Text after an element (or a comment, like Outlook's conditional ones) belongs
        # to its parent.
        parent = element.getparent()
        if element.tail and parent is not None and not _hidden(parent):
            parts.append(element.tail)
        if not isinstance(element.tag, str) or element.tag in ("style", "script", "head"):
            continue
        if element.text and not _hidden(element):
            parts.append(element.text)
    return " ".join(" ".join(parts).split())


def _link_findings(root: etree._Element) -> list[Finding]:
    findings: list[Finding] = []
    shortened: list[str] = []
    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        if not _is_absolute(href):
            findings.append(
                Finding(
                    "error",
                    "relative-link",
                    f"relative link {href!r} (links in email must be absolute)",
                    "make the link absolute (https://...), in the article or the template",
                )
            )
        elif is_shortened(href) and href not in shortened:
            shortened.append(href)
    for href in shortened:
        host = urlsplit(href.strip()).hostname
        findings.append(
            Finding(
                "warning",
                "url-shortener",
                f"link {href!r} goes through the URL shortener {host}",
                "link the destination itself: filters score shortened links as spam, "
                "and readers cannot see where they lead",
            )
        )
    return findings


def _image_findings(root: etree._Element) -> list[Finding]:
    findings: list[Finding] = []
    for image in root.iter("img"):
        src = image.get("src", "")
        if not _is_absolute(src):
            findings.append(
                Finding(
                    "error",
                    "relative-image",
                    f"image {src!r} has a relative or empty src",
                    "give the image an absolute https:// URL",
                )
            )
        if image.get("alt") is None:
            findings.append(
                Finding(
                    "error",
                    "missing-alt",
                    f"image {src!r} has no alt text",
                    'add alt="..." describing the image (alt="" if it is decoration): '
                    "most clients block images until the reader allows them",
                )
            )
    return findings


def _unsubscribe_findings(root: etree._Element, text: str | None) -> list[Finding]:
    findings: list[Finding] = []
    links = [a for a in root.iter("a") if a.get("href", "").strip() == _UNSUBSCRIBE]
    visible = [a for a in links if a.text_content().strip() and not _hidden(a)]
    if not visible:
        findings.append(
            Finding(
                "error",
                "unsubscribe-html",
                f'no unsubscribe link in the HTML part (a visible <a href="{_UNSUBSCRIBE}"> '
                "with text)",
                "Gmail and Yahoo require a visible unsubscribe link in the body: keep "
                "{{ links.unsubscribe }} in the digest template's footer",
            )
        )
    if text is not None and _UNSUBSCRIBE not in text:
        findings.append(
            Finding(
                "error",
                "unsubscribe-text",
                "no unsubscribe link in the text part",
                "keep {{ links.unsubscribe }} in the digest's text template",
            )
        )
    return findings


def _side(value: str | None, percent_of: int) -> int:
    value = (value or "").strip()
    if value.endswith("%") and value[:-1].isdigit():
        return int(value[:-1]) * percent_of // 100
    return int(value) if value.isdigit() and int(value) > 0 else _GUESSED_SIDE


def _image_area(image: etree._Element) -> int:
    """Pixels of an image as SpamAssassin counts them (percentages of 800x600)."""
    return _side(image.get("width"), 800) * _side(image.get("height"), 600)


def _image_text_findings(images: int, area: int, text_chars: int, html_bytes: int) -> list[Finding]:
    if not images:
        return []
    hint = "add text (the articles' summaries) or fewer images; never put the message in an image"
    if html_bytes <= IMAGE_ONLY_HTML_BYTES:
        return [
            Finding(
                "warning",
                "image-only",
                f"{images} image(s) in only {html_bytes} bytes of HTML: filters score "
                f"image-only mail (SpamAssassin: under {IMAGE_ONLY_HTML_BYTES} bytes)",
                hint,
            )
        ]
    ratio = text_chars / area if area else 0.0
    if ratio < MIN_TEXT_PER_IMAGE_PIXEL:
        return [
            Finding(
                "warning",
                "image-text-ratio",
                f"{text_chars} characters of text for {area:,} px² of images "
                f"({ratio:.4f} per px², under {MIN_TEXT_PER_IMAGE_PIXEL}): filters score "
                "image-heavy mail",
                hint,
            )
        ]
    return []


def presend_check(html: str, text: str | None = None) -> CheckResult:
    """Check an edition's inlined HTML and, when given, its text part (with their
    placeholders still in place)."""
    html_bytes = len(html.encode("utf-8"))
    estimated = encoded_part_size(html, "html", _FILLED)
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        broken = Finding(
            "error", "unparseable", f"the HTML cannot be parsed: {exc}", "fix the template"
        )
        return CheckResult([broken], html_bytes, estimated)

    findings = _link_findings(root) + _image_findings(root)
    findings += _unsubscribe_findings(root, text)
    text_chars = len("".join(_visible_text(root).split()))
    images = list(root.iter("img"))
    area = sum(_image_area(image) for image in images)
    findings += _image_text_findings(len(images), area, text_chars, html_bytes)
    if estimated > GMAIL_CLIP_BYTES:
        findings.append(
            Finding(
                "warning",
                "gmail-clip",
                f"the HTML part is about {estimated // 1024} KB as sent; Gmail clips "
                f"messages over {GMAIL_CLIP_BYTES // 1024} KB (and hides the unsubscribe "
                "link with the rest)",
                "lower max_articles or shorten the template",
            )
        )
    return CheckResult(findings, html_bytes, estimated, text_chars, len(images), area)
