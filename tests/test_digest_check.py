"""The pre-send check catches what breaks an edition in a mailbox."""

from __future__ import annotations

from syndicate.digest import presend_check
from syndicate.digest.check import GMAIL_CLIP_BYTES

FOOTER = '<a href="@@unsubscribe_url@@">Unsubscribe</a>'


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


def test_a_clean_edition_passes() -> None:
    result = presend_check(
        page(
            '<a href="https://news.example.org/a/">A</a>'
            '<img src="https://cdn.example.org/a.jpg" alt="A photo" width="10" height="10">'
            '<a href="mailto:desk@news.example.org">Write</a>' + FOOTER
        )
    )
    assert result.ok and not result.errors and not result.warnings


def test_relative_links_and_images_fail() -> None:
    result = presend_check(
        page('<a href="/news/a/">A</a><a href="b.html">B</a><img src="img/x.png" alt="x">' + FOOTER)
    )
    assert not result.ok
    assert any("'/news/a/'" in error for error in result.errors)
    assert any("'b.html'" in error for error in result.errors)
    assert any("img/x.png" in error for error in result.errors)


def test_image_without_alt_fails_but_empty_alt_is_allowed() -> None:
    missing = presend_check(page('<img src="https://cdn.example.org/a.jpg">' + FOOTER))
    decorative = presend_check(page('<img src="https://cdn.example.org/a.jpg" alt="">' + FOOTER))
    assert [e for e in missing.errors if "no alt text" in e]
    assert decorative.ok


def test_missing_unsubscribe_link_fails() -> None:
    result = presend_check(page("<p>@@unsubscribe_url@@ as text is not a link</p>"))
    assert not result.ok
    assert any("no unsubscribe link" in error for error in result.errors)


def test_large_edition_warns_about_gmail_clipping() -> None:
    body = "<p>" + "x" * (GMAIL_CLIP_BYTES + 10) + "</p>" + FOOTER
    result = presend_check(page(body))
    assert result.ok  # a warning, not an error
    assert any("Gmail clips" in warning for warning in result.warnings)
    assert result.html_bytes > GMAIL_CLIP_BYTES


def test_placeholders_count_towards_the_size_estimate() -> None:
    just_under = GMAIL_CLIP_BYTES - 400
    body = "<p>" + "x" * just_under + "</p>" + FOOTER * 4
    result = presend_check(page(body))
    assert result.html_bytes < GMAIL_CLIP_BYTES < result.estimated_bytes
    assert result.warnings
