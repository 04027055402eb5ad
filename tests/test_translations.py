"""Translations: complete catalogs, no untranslated literal in a reader template, and a
Ukrainian site and a German digest as their readers get them (docs/translations.md)."""

from __future__ import annotations

import email
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from syndicate.cli import main
from syndicate.core.clock import FixedClock
from syndicate.core.config import Settings, load_settings
from syndicate.core.db import editions
from syndicate.core.errors import ConfigError
from syndicate.core.i18n import LOCALE_DIR, languages, translator
from syndicate.core.render import environment, packaged_templates_dir
from syndicate.digest import compose
from syndicate.digest.render import count_label
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import REPO, write_config
from tests.support.digests import add_dated_article

TRANSLATED = ("de", "uk")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|@@\w+@@")
SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)  # Monday 08:00 Kyiv


# -- the catalogs -------------------------------------------------------------------------


def extracted() -> dict[str, tuple[str, ...]]:
    """Every reader-facing message in the code and templates, found by babel.cfg (what
    `make messages` extracts): singular id -> (singular, plural?)."""
    with (REPO / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map
    ):
        ids = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        found[ids[0]] = ids
    return found


def catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


@pytest.fixture(scope="module")
def messages() -> dict[str, tuple[str, ...]]:
    return extracted()


def test_extraction_finds_the_reader_strings(messages: dict[str, tuple[str, ...]]) -> None:
    """The extraction the completeness test relies on really sees code and templates."""
    assert "Check your inbox" in messages  # web/pages.py
    assert "Read the article" in messages  # digest.html
    assert "Confirm your subscription to %(title)s" in messages  # web/confirmation.py
    assert messages["%(num)d new article"] == ("%(num)d new article", "%(num)d new articles")
    assert "Dashboard" not in messages  # the admin console stays English


def test_the_template_is_up_to_date(messages: dict[str, tuple[str, ...]]) -> None:
    pot = catalog(LOCALE_DIR / "messages.pot")
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id} == set(messages), (
        "run `make messages`"
    )


def placeholders(text: str) -> list[str]:
    return sorted(set(PLACEHOLDER.findall(text)))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str, messages: dict[str, tuple[str, ...]]) -> None:
    """Every extracted message has a translation that is not empty, not fuzzy, has each
    plural form the language needs, and keeps the placeholders of the English."""
    po = catalog(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", language)
    assert po.num_plurals == {"de": 2, "uk": 3}[language]
    problems = []
    for key, ids in messages.items():
        entry = po.get(ids if len(ids) > 1 else key)
        if entry is None or entry.fuzzy:
            problems.append(f"{key!r}: {'fuzzy' if entry else 'missing'}")
            continue
        forms = list(entry.string) if isinstance(entry.string, tuple) else [entry.string]
        if len(forms) != (po.num_plurals if len(ids) > 1 else 1) or not all(forms):
            problems.append(f"{key!r}: {len(forms)} form(s), some empty")
        wanted = placeholders(" ".join(ids))
        problems += [
            f"{key!r}: {form!r} has {placeholders(form)}, not {wanted}"
            for form in forms
            if placeholders(form) != wanted
        ]
    problems += [f"{err}" for _msg, errs in po.check() for err in errs]
    assert problems == []


def test_the_completeness_check_sees_a_new_untranslated_string(tmp_path: Path) -> None:
    """The check above fails for a string added to a template without a translation."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "digest.html").write_text('<p>{{ _("A brand new line") }}</p>')
    (tmp_path / "babel.cfg").write_text((REPO / "babel.cfg").read_text())
    with (tmp_path / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = [m for _f, _l, m, _c, _x in extract_from_dir(str(tmp_path), method_map, options_map)]
    po = catalog(LOCALE_DIR / "uk" / "LC_MESSAGES" / "messages.po", "uk")
    assert found == ["A brand new line"] and po.get("A brand new line") is None


def test_ukrainian_plurals_take_three_forms(settings: Settings) -> None:
    digest = settings.digests[0].model_copy(update={"language": "uk"})
    labels = {n: count_label(settings, digest, n) for n in (1, 2, 4, 5, 11, 12, 21, 22, 25, 111)}
    assert labels == {
        1: "1 нова стаття",
        2: "2 нові статті",
        4: "4 нові статті",
        5: "5 нових статей",
        11: "11 нових статей",
        12: "12 нових статей",
        21: "21 нова стаття",
        22: "22 нові статті",
        25: "25 нових статей",
        111: "111 нових статей",
    }
    german = settings.digests[0].model_copy(update={"language": "de"})
    assert [count_label(settings, german, n) for n in (1, 2)] == [
        "1 neuer Artikel",
        "2 neue Artikel",
    ]


# -- no literal text in the reader templates ------------------------------------------------

MARK = "\x00"
# Human-visible attributes; a <meta> content only where it is prose.
VISIBLE = {"alt", "title", "placeholder", "aria-label", "label"}
# Names of feed formats, the same in every language (they are links to "Atom" feeds).
ALLOWED_WORDS = re.compile(r"\b(?:Atom|JSON Feed)\b")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        named = dict(attrs)
        for name, value in attrs:
            prose_meta = (
                tag == "meta"
                and name == "content"
                and (named.get("name") == "description" or "title" in (named.get("property") or ""))
            )
            if value and (name in VISIBLE or prose_meta):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.append(data)


def literal_text(source: str, name: str) -> list[str]:
    """Visible text that a template writes literally (outside ``{{ }}``, ``{% %}``)."""
    env = environment(None)
    parts, in_trans, last_name = [], False, None
    for _line, kind, value in env.lex(source, name):
        if kind == "name" and last_name == "block_begin":
            in_trans = {"trans": True, "endtrans": False}.get(value, in_trans)
        last_name = kind
        if kind == "data" and not in_trans:
            parts.append(value)
        elif kind == "variable_begin":  # a value; a tag ({% if %}) leaves nothing behind
            parts.append(MARK)
    text = "".join(parts)
    if name.endswith(".html"):
        parser = _Text()
        parser.feed(text)
        pieces = parser.found
    else:
        pieces = text.splitlines()
    words = []
    for piece in pieces:
        rest = ALLOWED_WORDS.sub("", PLACEHOLDER.sub("", piece.replace(MARK, " ")))
        if any(unicodedata.category(c).startswith("L") for c in rest):
            words.append(" ".join(rest.split()))
    return words


def reader_templates() -> list[str]:
    root = packaged_templates_dir()
    names = [p.relative_to(root).as_posix() for p in (root / "web").glob("*.html")]
    names += [p.relative_to(root).as_posix() for p in (root / "email").iterdir()]
    return sorted([*names, "digest.html", "digest.txt"])


@pytest.mark.parametrize("name", reader_templates())
def test_templates_have_no_untranslated_text(name: str) -> None:
    source = (packaged_templates_dir() / name).read_text(encoding="utf-8")
    assert literal_text(source, name) == []


def test_the_literal_check_finds_plain_text() -> None:
    html = '<p title="Say hi">Hello {{ x }}</p><style>p { color: red }</style>{{ _("Fine") }}'
    assert literal_text(html, "x.html") == ["Say hi", "Hello"]
    assert literal_text("Read it: {{ url }}\n-- \n@@email@@", "x.txt") == ["Read it:"]


# -- a Ukrainian site, a German digest ------------------------------------------------------

DIGESTS = """
[[digests]]
name = "weekly"
title = "Test News weekly"
schedule = "0 8 * * MON"
welcome = true

[[digests]]
name = "wochen"
title = "Wochenschau"
schedule = "0 8 * * MON"
language = "de"
"""


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def settings(config_file: Path) -> Settings:
    text = config_file.read_text().replace('language = "en"', 'language = "uk"')
    config_file.write_text(text)
    return load_settings(config_file)


@pytest.fixture
def client(app: App) -> FlaskClient:
    return create_app(app).test_client()


def maildir(app: App) -> list[email.message.EmailMessage]:
    folder = app.settings.resolve(app.settings.mail.maildir) / "new"
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def test_a_ukrainian_site_serves_ukrainian_pages_and_mail(client: FlaskClient, app: App) -> None:
    page = client.get("/subscribe")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="uk">' in html
    assert "Підписатися на Test News" in html and "Адреса електронної пошти" in html
    assert "Subscribe" not in html.replace("subscribe", "")

    bad = client.post("/subscribe", data={"email": "nope", "digest": ["weekly"]})
    assert bad.status_code == 400
    assert "Введіть правильну адресу електронної пошти" in bad.get_data(as_text=True)

    sent = client.post("/subscribe", data={"email": "olena@example.org", "digest": ["weekly"]})
    assert "Перевірте поштову скриньку" in sent.get_data(as_text=True)
    [message] = maildir(app)
    assert message["Subject"] == "Підтвердьте підписку на Test News"
    text = message.get_body(("plain",)).get_content()
    assert "Щоб підтвердити, відкрийте це посилання" in text
    assert "Посилання діє 7 днів." in text  # 7: the "many" form
    assert '<html lang="uk">' in message.get_body(("html",)).get_content()

    link = re.search(r"https://news\.example\.org(/confirm/\S+)", text)
    assert link
    confirmed = client.post(link[1]).get_data(as_text=True)
    assert "Ви підписалися" in confirmed and "Змінити налаштування" in confirmed


def test_a_nonexistent_language_in_a_request_changes_nothing(client: FlaskClient) -> None:
    """Readers do not pick a language: a ?lang= or Accept-Language of a language that
    does not exist is ignored, not an error."""
    page = client.get("/subscribe?lang=xx", headers={"Accept-Language": "xx-YY, tlh;q=0.9"})
    assert page.status_code == 200 and '<html lang="uk">' in page.get_data(as_text=True)
    missing = client.get("/no-such-page", headers={"Accept-Language": "xx"})
    assert missing.status_code == 404 and "Сторінку не знайдено" in missing.get_data(as_text=True)


def test_a_german_digest_has_german_chrome_and_articles_as_written(
    app: App, clock: FixedClock
) -> None:
    add_dated_article(app, "Bridge reopens", SLOT - timedelta(days=1), summary="Cars again.")
    add_dated_article(app, "Tram line extended", SLOT - timedelta(days=2))
    edition = compose(app.engine, app.settings, app.settings.digest("wochen"), clock=clock)
    html, text = edition.html, edition.text
    assert '<html lang="de"' in html
    assert "Im Browser ansehen" in html and "Artikel lesen" in html and "Abbestellen" in html
    assert "2. März 2026" in html and "2 neue Artikel" in html
    assert "01.03.2026" in html  # an article's date: German's medium format
    assert "Bridge reopens" in html and "Cars again." in html  # the articles stay as written
    assert "View in your browser" not in html and "Read the article" not in html
    assert (
        "Lesen: https://news.example.org/" in text and "Einstellungen: @@preferences_url@@" in text
    )


def test_the_welcome_speaks_the_digest_language(app: App, client: FlaskClient) -> None:
    """The Ukrainian site's own digest welcomes in Ukrainian, subject included."""
    client.post("/subscribe", data={"email": "taras@example.org", "digest": ["weekly"]})
    [confirmation] = maildir(app)
    text = confirmation.get_body(("plain",)).get_content()
    link = re.search(r"https://news\.example\.org(/confirm/\S+)", text)
    assert link
    client.post(link[1])
    with app.engine.connect() as conn:
        subject, html = conn.execute(
            select(editions.c.subject, editions.c.html).where(editions.c.status == "welcome")
        ).one()
    assert subject == "Ласкаво просимо до Test News weekly"
    assert "Чого чекати:" in html and "до 10 статей в кожному випуску" in html


# -- languages in the config ----------------------------------------------------------------


def test_a_language_without_a_catalog_is_a_clear_config_error(
    tmp_path: Path, store_url: str
) -> None:
    config = write_config(
        tmp_path, store_url, DIGESTS.replace('language = "de"', 'language = "tlh"')
    )
    config.write_text(config.read_text().replace('language = "en"', 'language = "xx"'))
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = "\n".join(raised.value.problems)
    assert "site.language" in message and "'xx'" in message
    assert "digests[1].language" in message and "'tlh'" in message
    assert "available: de, en, uk" in message

    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "site.language" in result.output and "available: de, en, uk" in result.output


def test_a_regional_tag_reads_its_base_language(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, DIGESTS.replace('"de"', '"de-AT"'))
    config.write_text(config.read_text().replace('language = "en"', 'language = "uk-UA"'))
    settings = load_settings(config)
    assert translator(settings.site.language).gettext("Subscribe") == "Підписатися"
    assert translator(settings.digests[1].language or "").gettext("Subscribe") == "Abonnieren"


def test_an_operator_catalog_adds_a_language_and_overrides_strings(
    tmp_path: Path, store_url: str
) -> None:
    config = write_config(tmp_path, store_url, DIGESTS.replace('"de"', '"fr"'))
    templates = tmp_path / "templates"
    french = templates / "locale" / "fr" / "LC_MESSAGES"
    french.mkdir(parents=True)
    (french / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Read the article"\nmsgstr "Lire l\'article"\n',
        encoding="utf-8",
    )
    german = templates / "locale" / "de" / "LC_MESSAGES"
    german.mkdir(parents=True)
    (german / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Subscribe"\nmsgstr "Jetzt abonnieren"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert "fr" in languages(settings.templates_dir)
    assert translator("fr", settings.templates_dir).gettext("Read the article") == "Lire l'article"
    ours = translator("de", settings.templates_dir)
    assert ours.gettext("Subscribe") == "Jetzt abonnieren"  # the operator's wins
    assert ours.gettext("Unsubscribe") == "Abbestellen"  # the rest stays packaged


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe not UTF-8", b'msgid "a"\nmsgstr "b\n\x00"unterminated\nmsgid_plural\n'],
)
def test_a_broken_operator_catalog_is_a_config_error_naming_the_file(
    tmp_path: Path, store_url: str, content: bytes
) -> None:
    config = write_config(tmp_path, store_url, DIGESTS)
    german = tmp_path / "templates" / "locale" / "de" / "LC_MESSAGES"
    german.mkdir(parents=True)
    (german / "messages.po").write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    problems = "\n".join(caught.value.problems or [])
    assert "digests[" in problems and str(german / "messages.po") in problems
    assert "not a readable gettext catalog" in problems


def test_an_operator_catalog_named_by_a_regional_tag_loads(tmp_path: Path, store_url: str) -> None:
    """Folders use BCP 47 tags (pt-BR); Babel's own locale name is pt_BR."""
    config = write_config(tmp_path, store_url, "")
    config.write_text(
        config.read_text(encoding="utf-8").replace('language = "en"', 'language = "pt-BR"', 1),
        encoding="utf-8",
    )
    brazil = tmp_path / "templates" / "locale" / "pt-BR" / "LC_MESSAGES"
    brazil.mkdir(parents=True)
    (brazil / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Plural-Forms: '
        'nplurals=2; plural=(n > 1);\\n"\n\nmsgid "Subscribe"\nmsgstr "Assinar"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert settings.site.language == "pt-BR"
    assert translator("pt-BR", settings.templates_dir).gettext("Subscribe") == "Assinar"
