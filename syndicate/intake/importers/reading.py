"""From a path to decoded text: which files, which format, and every way reading fails.

Each failure is an ImportFailure naming the file (and the line, where there is one).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from syndicate.core.errors import ImportFailure
from syndicate.core.sanitize import strip_control_chars

MAX_FILE_BYTES = 5 * 1024 * 1024  # a feed validator refuses feeds over 5 MB
EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
_HTML_START = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_TAGS = re.compile(r"<(?:p|div|article|main|section|h[1-6]|ul|ol|table|br)\b[^>]*>", re.I)
_MARKDOWN_SIGNS = re.compile(r"^(?:#{1,6} |```|> |\s*[-*+] |\d+\. )|\[[^\]]+\]\([^)]+\)", re.M)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, name: str, warnings: list[str]) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFailure(name, "starts like UTF-16 text but does not decode") from None
    if b"\x00" in data[:8192]:
        raise ImportFailure(name, "binary file (it contains NUL bytes), not a text article")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportFailure(
                name,
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} is invalid) and not "
                "Windows-1252 either; save the file as UTF-8",
                line=line,
            ) from None
        warnings.append(f"not UTF-8 (first invalid byte on line {line}); read as Windows-1252")
        return text


def read_text(path: Path) -> tuple[str, list[str]]:
    """The file's text with newlines normalised and XML-illegal characters removed,
    plus warnings for what was repaired."""
    name = str(path)
    warnings: list[str] = []
    try:
        if path.is_dir():
            raise ImportFailure(name, "is a folder, not a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFailure(
                name,
                f"file is {size / 1_048_576:.1f} MB; an article may be at most "
                f"{MAX_FILE_BYTES // 1_048_576} MB",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailure(name, "no such file or folder") from None
    except PermissionError:
        raise ImportFailure(name, "cannot be read: permission denied") from None
    except OSError as exc:
        raise ImportFailure(name, f"cannot be read: {exc.strerror or exc}") from None
    if not data.strip():
        raise ImportFailure(name, "file is empty")
    text = _decode(data, name, warnings)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = strip_control_chars(text)
    controls = len(text) - len(cleaned)
    if controls * 10 > len(text):
        raise ImportFailure(name, "binary file (mostly control characters), not a text article")
    if controls:
        warnings.append(f"removed {controls} control character(s)")
    if not cleaned.strip():
        raise ImportFailure(name, "file is empty")
    return cleaned, warnings


def detect_format(path: Path, text: str) -> str:
    """``text``, ``markdown`` or ``html``: by extension, else by what the content looks like."""
    by_extension = EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    head = text[:4096]
    if _HTML_START.match(head) or len(_HTML_TAGS.findall(head)) >= 2:
        return "html"
    if head.startswith(("---\n", "+++\n")) or _MARKDOWN_SIGNS.search(head):
        return "markdown"
    return "text"
