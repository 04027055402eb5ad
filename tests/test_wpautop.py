"""The wpautop port gives WordPress's output for the cases WordPress's own tests pin."""

from __future__ import annotations

import pytest

from syndicate.intake.importers.wpautop import expand_shortcodes, render_post, wpautop


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Welcome to WordPress.", "<p>Welcome to WordPress.</p>\n"),
        ("Line one\nLine two", "<p>Line one<br />\nLine two</p>\n"),
        ("a\n\n\n\nb", "<p>a</p>\n<p>b</p>\n"),
        ("<blockquote>foo</blockquote>", "<blockquote><p>foo</p></blockquote>\n"),
        ("<div>foo</div>", "<div>foo</div>\n"),
        ("<pre>x\n\ny</pre>", "<pre>x\n\ny</pre>\n"),
        ("<ul>\n<li>a</li>\n<li>b</li>\n</ul>", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("one<br><br>two", "<p>one</p>\n<p>two</p>\n"),
        ('<a href="x"\ntitle="y">link</a>', '<p><a href="x"\ntitle="y">link</a></p>\n'),
        ("text\n<hr>\nmore", "<p>text</p>\n<hr />\n<p>more</p>\n"),
        ("", ""),
    ],
)
def test_wpautop_matches_wordpress(text: str, expected: str) -> None:
    assert wpautop(text) == expected


def test_caption_shortcode_becomes_a_figure() -> None:
    html = expand_shortcodes(
        '[caption id="attachment_5" align="alignleft" width="300"]'
        '<a href="/big.jpg"><img src="/s.jpg" alt="" /></a> Dunes at dusk[/caption]'
    )
    assert html == (
        '<figure><a href="/big.jpg"><img src="/s.jpg" alt="" /></a>'
        "<figcaption>Dunes at dusk</figcaption></figure>"
    )
    old_style = expand_shortcodes('[caption caption="Old style"]<img src="/o.jpg" />[/caption]')
    assert old_style == '<figure><img src="/o.jpg" /><figcaption>Old style</figcaption></figure>'


def test_block_editor_content_is_not_autop_ed() -> None:
    stored = "<!-- wp:paragraph -->\n<p>One\ntwo</p>\n<!-- /wp:paragraph -->"
    assert render_post(stored) == stored
