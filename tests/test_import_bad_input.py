"""Bad input from issue 3: each gets a clear error naming the file (and line), or a
sanitised result; none stops the other files."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from syndicate import articles
from syndicate.core.db import transaction
from syndicate.intake.importers import MAX_FILE_BYTES, import_paths
from syndicate.service.context import App
from tests.test_sanitize import assert_safe


def only_outcome(app: App, path: Path):  # type: ignore[no-untyped-def]
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    (outcome,) = report.outcomes
    return outcome


def failure(app: App, path: Path) -> tuple[str, int | None]:
    outcome = only_outcome(app, path)
    assert outcome.status == "failed", outcome.to_dict()
    assert outcome.error is not None
    assert outcome.error.message.startswith(str(path))  # names the file
    assert outcome.error.hint
    return outcome.reason, outcome.error.line


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n", "\u00a0\n \n".encode()])
def test_empty_files(app: App, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert failure(app, path)[0] == "file is empty"


def test_binary_files(app: App, tmp_path: Path) -> None:
    path = tmp_path / "photo.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "binary file" in failure(app, path)[0]
    mostly_controls = tmp_path / "controls.txt"
    mostly_controls.write_bytes(bytes(range(1, 9)) * 50 + b"Title\n\nx\n")
    assert "binary file" in failure(app, mostly_controls)[0]


def test_cp1252_is_read_with_a_warning(app: App, tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("Caf\u00e9 Opens\n\n\u201cQuoted\u201d \u2013 fine.\n".encode("cp1252"))
    outcome = only_outcome(app, path)
    assert outcome.status == "imported"
    assert "not UTF-8 (first invalid byte on line 1); read as Windows-1252" in outcome.warnings
    with transaction(app.engine) as conn:
        article = articles.find(conn, outcome.slug or "")
    assert article is not None
    assert article.title == "Café Opens"
    assert article.content_text == "“Quoted” – fine."


def test_undecodable_bytes_fail_with_the_line(app: App, tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes(b"Title\n\nfine line\nbad \x81\x8d byte\n")  # undefined in cp1252 too
    reason, line = failure(app, path)
    assert "not UTF-8" in reason and "Windows-1252" in reason
    assert line == 4


def test_utf8_bom_and_crlf_are_fine(app: App, tmp_path: Path) -> None:
    path = tmp_path / "windows.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\ntitle: Bom\r\ndate: 2026-11-01\r\n---\r\nBody.\r\n")
    assert only_outcome(app, path).status == "imported"


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("---\ntitle: [unclosed\ndate: 2026-01-01\n---\nBody\n", 3, "broken YAML"),
        ("---\ntitle: T\nBody without a closing fence\n", 1, "never closed"),
        ('+++\ntitle = "T"\ndate = oops\n+++\nBody\n', 3, "broken TOML"),
        ("---\n- just\n- a list\n---\nBody\n", 2, "table of keys"),
        ("---\ntitle: T\ntags: {a: 1}\n---\nBody\n", 3, "tags"),
        ("---\ntitle: T\ndraft: maybe\n---\nBody\n", 3, "draft"),
        ("---\ntitle: T\nid: not a uri\n---\nBody\n", 3, "not a UUID or a URI"),
    ],
)
def test_broken_front_matter_names_the_line(
    app: App, tmp_path: Path, content: str, line: int, words: str
) -> None:
    path = tmp_path / "broken.md"
    path.write_text(content, encoding="utf-8")
    reason, got_line = failure(app, path)
    assert words in reason
    assert got_line == line


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("no-title.md", "---\ndate: 2026-01-01\n---\nJust a body, no heading.\n"),
        ("symbols.txt", "••••\n\nBody text.\n"),
        ("long.txt", "x" * 500 + "\n\nBody.\n"),
        ("only-title.txt", "Just A Title\n"),
    ],
)
def test_no_title_or_no_body(app: App, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    reason, _ = failure(app, path)
    assert "no title" in reason or "no body" in reason


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("bad-date.md", "---\ntitle: T\ndate: 31 Febtember 2026\n---\nBody\n", 3),
        ("bad-updated.md", "---\ntitle: T\nupdated: yesterday\n---\nBody\n", 3),
        ("year.md", "---\ntitle: T\ndate: 0001-01-01\n---\nBody\n", 3),
        ("number.md", "---\ntitle: T\ndate: 12\n---\nBody\n", 3),
    ],
)
def test_unparseable_dates(app: App, tmp_path: Path, name: str, content: str, line: int) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    reason, got_line = failure(app, path)
    assert "date" in reason
    assert got_line == line


def test_a_10_mb_file_is_refused_without_harm(app: App, tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.write(b"Huge Title\n\n")
        handle.truncate(10 * 1024 * 1024)
    small = tmp_path / "small.txt"
    small.write_text("Small Title\n\nSmall body.\n", encoding="utf-8")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[big, small])
    assert [o.status for o in report.outcomes] == ["failed", "imported"]
    assert "10.0 MB" in report.outcomes[0].reason
    assert f"{MAX_FILE_BYTES // 1_048_576} MB" in report.outcomes[0].reason


def test_control_characters_are_stripped(app: App, tmp_path: Path) -> None:
    path = tmp_path / "controls.md"
    path.write_text(
        '---\ntitle: "Bad\\x07 Title"\nsummary: "a\\x00b"\n---\nBody \x0b with \x1f controls.\n',
        encoding="utf-8",
    )
    outcome = only_outcome(app, path)
    assert outcome.status == "imported"
    assert "removed 2 control character(s)" in outcome.warnings
    with transaction(app.engine) as conn:
        article = articles.find(conn, outcome.slug or "")
    assert article is not None
    assert (article.title, article.summary) == ("Bad Title", "ab")
    assert article.content_text == "Body with controls."


HOSTILE = """<html><head><title>Hostile</title>
<script>document.cookie</script></head><body>
<h1>Hostile</h1>
<p onclick="steal()">Click <a href="javascript:alert(1)">here</a> or
<a href="data:text/html;base64,PHNjcmlwdD4=">there</a>.</p>
<img src="x.png" onerror="alert(1)">
<img src="data:image/png;base64,iVBORw0KGgo=">
<div style="background:url(javascript:alert(1));width:expression(alert(1))">styled</div>
<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>
<circle r="5"/></svg>
<iframe src="https://evil.example.com/frame"></iframe>
<object data="evil.swf"></object>
<a href="/relative/path">relative</a>
</body></html>"""


def test_hostile_html_is_sanitised(app: App, tmp_path: Path) -> None:
    path = tmp_path / "hostile.html"
    path.write_text(HOSTILE, encoding="utf-8")
    outcome = only_outcome(app, path)
    assert outcome.status == "imported"
    with transaction(app.engine) as conn:
        article = articles.find(conn, outcome.slug or "")
    assert article is not None
    html = article.content_html
    assert_safe(html)
    for bad in ("script", "alert", "onerror", "onclick", "javascript", "data:", "expression",
                "svg", "iframe", "object", "style="):  # fmt: skip
        assert bad not in html.lower(), bad
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    assert root.xpath("//a/@href") == ["https://news.example.org/relative/path"]
    assert root.xpath("//img/@src") == ["https://news.example.org/x.png"]
    assert "styled" in article.content_text


def test_hostile_markdown_is_sanitised(app: App, tmp_path: Path) -> None:
    path = tmp_path / "hostile.md"
    path.write_text(
        "# Hostile\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
        "<script>alert(1)</script>\n\n![p](data:image/png;base64,AAAA)\n",
        encoding="utf-8",
    )
    outcome = only_outcome(app, path)
    assert outcome.status == "imported"
    with transaction(app.engine) as conn:
        article = articles.find(conn, outcome.slug or "")
    assert article is not None
    assert_safe(article.content_html)
    for bad in ("<script", "onerror", 'href="javascript', "data:"):
        assert bad not in article.content_html


@pytest.mark.parametrize("tags", ['"road\\x07s, tran\\x01sit"', '["road\\x07s", "tran\\x01sit"]'])
def test_control_characters_are_stripped_from_tags(app: App, tmp_path: Path, tags: str) -> None:
    path = tmp_path / "tags.md"
    path.write_text(f"---\ntitle: Tags\ntags: {tags}\n---\nBody.\n", encoding="utf-8")
    outcome = only_outcome(app, path)
    assert outcome.status == "imported", outcome.reason
    with transaction(app.engine) as conn:
        article = articles.find(conn, outcome.slug or "")
    assert article is not None and article.tags == ("roads", "transit")
