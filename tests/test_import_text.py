"""Plain-text import: the seed article's structure, exactly as issue 3 lists it."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pytest

from syndicate import articles
from syndicate.core.db import transaction
from syndicate.intake.importers import import_paths
from syndicate.service.context import App
from tests.support import CORPUS

SEED = CORPUS / "seed-article.txt"

HEADINGS = [
    "War Must Return to Where It Came From” – Zelensky’s Strong Statement",
    "What This Signals:",
    "Affirmed: Ukrainian Strengths Working in Belgorod",
    "Key Takeaways:",
    "Why Belgorod and Kursk? Strategic Distraction at Play",
    "What’s Happening on the Ground?",
    "High Risk, High Reward: Is It Worth the Cost?",
    "Pros:",
    "Cons:",
    "Meanwhile, Ukraine Mourns: 20 Dead in Kryvyi Rih Strike",
]
LEAD_INS = [
    "✅ Erodes Russian Morale and Exposes Vulnerabilities:",
    "✅ Forces Russia to Stretch Its Military Resources Thin:",
    "⚠️ Risk of Escalated Russian Retaliation:",
    "⚠️ Potential for High Casualties and Logistical Strain:",
    "⚠️ Could Complicate Diplomatic Pathways:",
]


def _import_one(app: App, path: Path) -> articles.Article:
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert report.ok, report.to_dict()
    (outcome,) = report.outcomes
    with transaction(app.engine) as conn:
        found = articles.find(conn, outcome.slug or "")
    assert found is not None
    return found


@pytest.fixture
def seed(app: App, tmp_path: Path) -> articles.Article:
    copy = tmp_path / "seed-article.txt"
    shutil.copyfile(SEED, copy)
    return _import_one(app, copy)


def _texts(root: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [el.text_content() for el in root.xpath(xpath)]


def test_title_author_and_epigraph(seed: articles.Article) -> None:
    assert seed.title == "Zelensky Drops Stunner: Ukrainian Troops Active Inside Russia"
    assert seed.author_name == "Jason Miller"
    root = lxml.html.fragment_fromstring(seed.content_html, create_parent="div")
    first = root[0]
    assert first.tag == "blockquote"
    assert first.text_content().startswith("We are just an advanced breed of monkeys")
    assert "Jason Miller" not in seed.content_html
    assert seed.title not in seed.content_text


def test_ten_section_headings_in_order(seed: articles.Article) -> None:
    root = lxml.html.fragment_fromstring(seed.content_html, create_parent="div")
    assert _texts(root, "//h2") == HEADINGS


def test_lead_ins_are_subheadings_with_emoji(seed: articles.Article) -> None:
    root = lxml.html.fragment_fromstring(seed.content_html, create_parent="div")
    assert _texts(root, "//h3") == LEAD_INS
    for h3 in root.xpath("//h3"):
        following = h3.getnext()
        assert following is not None and following.tag == "p"
        assert len(following.text_content()) > 300  # the paragraph it introduces


def test_three_lists_of_three_two_three(seed: articles.Article) -> None:
    root = lxml.html.fragment_fromstring(seed.content_html, create_parent="div")
    lists = root.xpath("//ul")
    assert [len(ul.xpath("./li")) for ul in lists] == [3, 2, 3]
    assert lists[0].xpath("./li")[0].text_content() == (
        "Ukraine has moved from defense to proactive counter-attacks."
    )
    assert lists[2].xpath("./li")[0].text_content().startswith("Divert Russian Forces:")
    assert "•" not in seed.content_html


def test_standalone_quotations_are_blockquotes(seed: articles.Article) -> None:
    root = lxml.html.fragment_fromstring(seed.content_html, create_parent="div")
    quotes = _texts(root, "/div/blockquote")
    assert len(quotes) == 3  # the epigraph and the two standalone quotations
    assert quotes[1].startswith("“We proceed to carry out energetic operations")
    assert quotes[1].endswith("war must return to where it came from.”")
    assert quotes[2] == (
        "“Ukrainian forces have made measurable advances in the Belgorod region, "
        "consolidating their positions on the outskirts of Demidovka and Prilesye.”"
    )


def test_attributed_quotes_and_lead_sentences_stay_paragraphs(seed: articles.Article) -> None:
    root = lxml.html.fragment_fromstring(seed.content_html, create_parent="div")
    paragraphs = _texts(root, "/div/p")
    assert any(p.startswith("“Well done, folks!") and "declared with fervor." in p
               for p in paragraphs)  # fmt: skip
    assert any(p.startswith("“This is not just war—it’s terrorism,” said one mourner")
               for p in paragraphs)  # fmt: skip
    assert (
        "Despite Russia’s official denial, independent reports paint a far more complex "
        "picture:" in paragraphs
    )
    assert (
        "The Institute for the Study of War (ISW)—a leading military think tank—recently "
        "stated:" in paragraphs
    )


def test_trailing_site_chrome_is_gone(seed: articles.Article) -> None:
    for chrome in ("Share This Article", "Leave a Comment", "Leave a Reply",
                   "Your email address", "Required fields"):  # fmt: skip
        assert chrome not in seed.content_html
        assert chrome not in seed.content_text
    assert seed.content_text.endswith("who bury their dead and still select to stand.")


def test_characters_of_the_body_are_unchanged(seed: articles.Article) -> None:
    source = SEED.read_text(encoding="utf-8").split("Share This Article")[0]
    body_lines = [
        " ".join(line.replace("•", "").split())
        for line in source.splitlines()[6:]
        if line.strip() and len(line.strip()) > 40
    ]
    text = seed.content_text
    for line in body_lines:
        assert line in text, line
    for char in "“”’—–…✅⚠️":
        assert source.count(char) > 0
        assert text.count(char) == source.count(char), char


def test_summary_is_the_first_real_paragraph(seed: articles.Article) -> None:
    assert seed.summary.startswith("Ukrainian President Volodymyr Zelensky has officially")
    assert len(seed.summary) <= 281 and seed.summary.endswith("…")


def test_plain_text_rules_on_a_small_article(app: App, tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_text(
        "Ferry Timetable Changes\n\nBy Anna Lee\n\nPublished: 12 November 2026\n\n"
        "The winter timetable starts on Sunday with fewer sailings on weekdays and see\n"
        "https://example.org/ferry for details.\n\n"
        "What Changes\n\n"
        "- First sailing at 06:30\n- Last sailing at 22:00\n\n"
        "1. Buy tickets online\n2. Board at pier 4\n\n"
        '"A straight-quoted standalone quotation."\n\n'
        "Thanks for reading\n",
        encoding="utf-8",
    )
    article = _import_one(app, path)
    assert article.title == "Ferry Timetable Changes"
    assert article.author_name == "Anna Lee"
    assert article.published_at.isoformat() == "2026-11-11T22:00:00+00:00"  # Kyiv midnight
    assert article.content_html == (
        "<p>The winter timetable starts on Sunday with fewer sailings on weekdays and see "
        '<a href="https://example.org/ferry">https://example.org/ferry</a> for details.</p>\n'
        "<h2>What Changes</h2>\n"
        "<ul><li>First sailing at 06:30</li><li>Last sailing at 22:00</li></ul>\n"
        "<ol><li>Buy tickets online</li><li>Board at pier 4</li></ol>\n"
        '<blockquote><p>"A straight-quoted standalone quotation."</p></blockquote>\n'
        "<p>Thanks for reading</p>"
    )


@pytest.mark.parametrize(
    ("text", "author", "first_heading"),
    [
        (
            "Budget Passed\n\nKey Facts\n\n- one\n- two\n\nMore text follows here.\n",
            None,
            "Key Facts",
        ),
        (
            "Budget Passed\n\nMaria Lopez\n\nKey Facts\n\n- one\n\nEnd text here.\n",
            "Maria Lopez",
            "Key Facts",
        ),
        (
            "Budget Passed\n\nWhat Happens Next\n\nThe vote was close.\n\nEnd.\n",
            None,
            "What Happens Next",
        ),
    ],
)
def test_byline_is_not_confused_with_a_heading(
    app: App, tmp_path: Path, text: str, author: str | None, first_heading: str
) -> None:
    path = tmp_path / "budget.txt"
    path.write_text(text, encoding="utf-8")
    article = _import_one(app, path)
    assert article.author_name == author
    root = lxml.html.fragment_fromstring(article.content_html, create_parent="div")
    assert _texts(root, "//h2")[0] == first_heading
