"""Hugo shortcodes and Jekyll Liquid: expanded, or removed with a warning naming them."""

from __future__ import annotations

from syndicate.intake.importers.shortcodes import expand_hugo, expand_liquid


def test_unknown_paired_hugo_shortcode_keeps_its_inner_text() -> None:
    text, warnings = expand_hugo("{{< notice warning >}}Mind the gap.{{< /notice >}}")
    assert text == "Mind the gap."
    assert warnings == ["Hugo shortcode 'notice' has no equivalent here; removed"]


def test_hugo_markdown_shortcode_delimiters_and_named_arguments() -> None:
    text, warnings = expand_hugo('{{% youtube id="abc123" %}}\n{{< gist spf13 7896402 >}}')
    assert 'href="https://www.youtube.com/watch?v=abc123"' in text
    assert 'href="https://gist.github.com/spf13/7896402"' in text
    assert warnings == []


def test_hugo_figure_escapes_its_attributes() -> None:
    text, _ = expand_hugo('{{< figure src="a.jpg" caption="<b>x</b> & y" alt=\'"q"\' >}}')
    assert '<img src="a.jpg" alt="&quot;q&quot;">' in text
    assert "<figcaption>&lt;b&gt;x&lt;/b&gt; &amp; y</figcaption>" in text


def test_liquid_link_variables_and_unknown_tags() -> None:
    text, warnings = expand_liquid(
        "[a]({% link _posts/2024-01-02-Hello-World.md %}) {{ site.url }} {{ page.author }}"
        " {% comment %}private note{% endcomment %}",
        {"site.url": "https://s.example", "site.baseurl": "https://s.example"},
    )
    assert text.startswith("[a](../hello-world/) https://s.example ")
    assert "{{" not in text and "{%" not in text and "private" not in text
    assert warnings == ["Liquid variable {{ page.author }} has no value here; removed"]
