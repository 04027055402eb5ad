"""The pre-send check catches what breaks an edition in a mailbox."""

from __future__ import annotations

from syndicate.digest import presend_check
from syndicate.digest.check import GMAIL_CLIP_BYTES

FOOTER = '<a href="@@unsubscribe_url@@">Unsubscribe</a>'


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


# An edition's worth of text: summaries around the images.
SUMMARIES = "".join(
    f"<p>Summary {n}: the council approved the transport budget for next year on Tuesday, "
    "with new night routes and a weekly pass for part-time commuters.</p>"
    for n in range(30)
)


def test_a_clean_edition_passes() -> None:
    result = presend_check(
        page(
            SUMMARIES + '<a href="https://news.example.org/a/">A</a>'
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


# -- editions shaped like real ones ---------------------------------------------------

ARTICLE = (
    '<tr><td class="article"><a href="https://news.example.org/{n}/">'
    '<img src="https://cdn.example.org/{n}.jpg" alt="{alt}" width="552" height="310"></a>'
    '<h2><a href="{href}">Article {n}</a></h2><p class="summary">{summary}</p></td></tr>'
)
TEXT_PART = "Example News weekly\n\nUnsubscribe: @@unsubscribe_url@@\n"


def edition(count: int, *, summary: str = "", alt: str = "A photo", href: str = "") -> str:
    rows = "".join(
        ARTICLE.format(n=n, alt=alt, summary=summary, href=href or f"https://news.example.org/{n}/")
        for n in range(count)
    )
    return page(f"<table>{rows}</table>{FOOTER}")


def codes(result: object) -> set[str]:
    return {f.code for f in result.findings}  # type: ignore[attr-defined]


def test_a_big_edition_is_measured_as_sent_and_warned_about() -> None:
    # 60 articles with long summaries in Cyrillic: quoted-printable would triple them,
    # so the part goes out base64; either way the size as sent is what counts.
    summary = "Міська рада затвердила бюджет транспорту на наступний рік. " * 12
    result = presend_check(edition(60, summary=summary), TEXT_PART)
    assert result.ok
    assert "gmail-clip" in codes(result)
    assert result.estimated_bytes > GMAIL_CLIP_BYTES
    # The raw HTML is smaller than what is sent (base64 adds a third).
    assert result.estimated_bytes > result.html_bytes
    clip = next(f for f in result.findings if f.code == "gmail-clip")
    assert clip.severity == "warning" and "max_articles" in clip.hint


def test_an_image_only_edition_is_warned_about() -> None:
    result = presend_check(edition(1), TEXT_PART)
    assert "image-only" in codes(result)
    # Bigger HTML, still almost no text for many images: the ratio rule.
    many = presend_check(edition(20), TEXT_PART)
    assert "image-text-ratio" in codes(many)
    assert many.text_chars < 0.002 * many.image_area
    # With summaries (about 600 characters each) the same images are fine.
    words = "The council approved next year's transport budget on Tuesday. " * 10
    assert not {"image-only", "image-text-ratio"} & codes(presend_check(edition(20, summary=words)))


def test_links_through_url_shorteners_are_warned_about() -> None:
    words = "The council approved next year's transport budget on Tuesday. " * 6
    result = presend_check(edition(3, summary=words, href="https://bit.ly/3xYzAbC"), TEXT_PART)
    found = [f for f in result.findings if f.code == "url-shortener"]
    assert len(found) == 1 and "bit.ly" in found[0].message  # one finding per link
    assert found[0].severity == "warning"
    for url in ("https://t.co/x", "http://www.tinyurl.com/y", "https://buff.ly/z"):
        assert "url-shortener" in codes(presend_check(page(f'<a href="{url}">x</a>' + FOOTER)))
    assert "url-shortener" not in codes(
        presend_check(page('<a href="https://notbit.ly/a">x</a>' + FOOTER))
    )


def test_images_missing_alt_text_are_errors_with_a_next_step() -> None:
    result = presend_check(edition(2).replace(' alt="A photo"', ""), TEXT_PART)
    missing = [f for f in result.findings if f.code == "missing-alt"]
    assert len(missing) == 2 and all(f.severity == "error" for f in missing)
    assert 'alt=""' in missing[0].hint and not result.ok


def test_the_unsubscribe_link_must_be_visible_in_both_parts() -> None:
    hidden = page(
        '<p>Hello</p><div style="display: none"><a href="@@unsubscribe_url@@">Unsubscribe</a></div>'
    )
    assert "unsubscribe-html" in codes(presend_check(hidden, TEXT_PART))
    empty = page('<p>Hello</p><a href="@@unsubscribe_url@@"></a>')
    assert "unsubscribe-html" in codes(presend_check(empty, TEXT_PART))
    no_text_link = presend_check(page("<p>Hello</p>" + FOOTER), "Example News weekly\n")
    assert codes(no_text_link) == {"unsubscribe-text"} and not no_text_link.ok
    assert presend_check(page("<p>Hello</p>" + FOOTER), TEXT_PART).ok


def test_findings_serialise_with_severity_and_next_step() -> None:
    data = presend_check(page("<p>Hello</p>")).as_dict()
    assert data["ok"] is False
    assert data["findings"][0].keys() == {"severity", "code", "message", "hint"}


def test_visible_text_counts_text_after_comments_but_not_hidden_text() -> None:
    shown = "Words a reader sees. " * 10
    hidden = "Preheader text a reader never sees. " * 10
    result = presend_check(
        page(f'<div style="display:none">{hidden}</div><!--[if mso]>x<![endif]-->{shown}' + FOOTER)
    )
    assert result.text_chars == len("".join((shown + "Unsubscribe").split()))
