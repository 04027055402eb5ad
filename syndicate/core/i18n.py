"""Translations of what readers see around the articles (pages, emails, digest chrome).

gettext catalogs (Babel): ``syndicate/locale/<lang>/LC_MESSAGES/messages.po``, compiled
in memory when first used, so there is no build step and no stale ``.mo``. An operator's
``<paths.templates>/locale/<lang>/LC_MESSAGES/messages.po`` adds a language or overrides
single strings of a packaged one. English is the source language: no catalog needed.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations

SOURCE_LANGUAGE = "en"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

# English keeps the day-month-year dates it always had; other languages use their
# locale's own long and medium formats ("2. März 2026", "2 берез. 2026 р.").
_PATTERNS = {SOURCE_LANGUAGE: {"long": "d MMMM y", "short": "d MMM y"}}
_LOCALE_FORMATS = {"long": "long", "short": "medium"}


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def _catalog(root: Path, language: str) -> Path:
    return root / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _operator_root(operator_dir: Path | None) -> Path | None:
    return None if operator_dir is None else operator_dir / "locale"


@cache
def languages(operator_dir: Path | None = None) -> tuple[str, ...]:
    """The languages readers can be served in: English, the packaged catalogs and the
    operator's."""
    found = {SOURCE_LANGUAGE}
    for root in (LOCALE_DIR, _operator_root(operator_dir)):
        if root is not None and root.is_dir():
            found.update(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(sorted(found))


class UnknownLanguage(ValueError):
    """A language tag with no catalog: the message names the available ones."""


@cache
def language_for(tag: str, operator_dir: Path | None = None) -> str:
    """The catalog a BCP 47 tag is served from: itself, else its base language
    (``de-AT`` reads German); UnknownLanguage when neither has a catalog."""
    available = languages(operator_dir)
    if tag in available:
        return tag
    locale = _babel_locale(tag)
    candidates = [str(locale), locale.language] if locale is not None else []
    for candidate in candidates:
        if candidate in available:
            return candidate
    raise UnknownLanguage(
        f"no translation for language {tag!r} (available: {', '.join(available)}; "
        "docs/translations.md says how to add one)"
    )


def _babel_locale(tag: str) -> Locale | None:
    """Babel's locale for a tag (plural rules), None for one it has no data for."""
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None


class BrokenCatalog(ValueError):
    """A catalog that cannot be read: the message names the file and the line."""


def _compile(path: Path, language: str) -> Translations:
    """A .po read and compiled in memory (fuzzy entries left out, as msgfmt does); an
    operator's broken file is a BrokenCatalog naming it, never a traceback later."""
    try:
        with path.open("rb") as po:
            # Babel's Locale wants "pt_BR" where folders use the BCP 47 "pt-BR".
            catalog = read_po(po, locale=_babel_locale(language), domain=DOMAIN, abort_invalid=True)
    except (OSError, ValueError, PoFileError) as exc:
        raise BrokenCatalog(f"{path}: not a readable gettext catalog ({exc})") from None
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def translations(language: str, operator_dir: Path | None = None) -> NullTranslations:
    """The messages of ``language`` (a catalog name, see ``language_for``): the packaged
    catalog with the operator's entries over it; English without catalogs is identity."""
    found: Translations | None = None
    roots = (LOCALE_DIR, _operator_root(operator_dir))
    for root in roots:
        if root is None or not _catalog(root, language).is_file():
            continue
        loaded = _compile(_catalog(root, language), language)
        found = loaded if found is None else found.merge(loaded)
    return found if found is not None else NullTranslations()


def translator(tag: str, operator_dir: Path | None = None) -> NullTranslations:
    """The translations a configured language tag reads in (UnknownLanguage, or
    BrokenCatalog for a catalog that cannot be read)."""
    return translations(language_for(tag, operator_dir), operator_dir)


def long_date(moment: date | datetime, tag: str) -> str:
    """An edition's date as a reader of ``tag`` writes it (``2 March 2026``)."""
    return _date(moment, tag, "long")


def short_date(moment: date | datetime, tag: str) -> str:
    """An article's date in the digest (``2 Mar 2026``)."""
    return _date(moment, tag, "short")


def _date(moment: date | datetime, tag: str, kind: str) -> str:
    """Babel's own locale data for the tag (``de-AT`` writes Austrian month names)."""
    # An operator's own catalog Babel has no data for: English dates.
    locale = _babel_locale(tag) or Locale.parse(SOURCE_LANGUAGE)
    day = moment.date() if isinstance(moment, datetime) else moment
    pattern = _PATTERNS.get(locale.language, {}).get(kind, _LOCALE_FORMATS[kind])
    return format_date(day, pattern, locale=locale)
