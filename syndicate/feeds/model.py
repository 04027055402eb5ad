"""What a feed holds, independent of its format: the feed (``FeedSpec``), one page of it
(``Page``: the live feed or an archive page) and its entries (``Entry``).

Pages are planned from light article rows (no bodies) so that a page whose inputs
did not change can be recognised by its ``fingerprint`` without rendering it; the
bodies are loaded and turned into ``Entry`` values only for the pages that are built.
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import nh3

from syndicate.articles import Article, ArticleFilter, valid_mime_type
from syndicate.core import itunes, sanitize
from syndicate.core.buildstamp import FORMAT_VERSION as FORMAT_VERSION  # the CLI reads it there
from syndicate.core.config import FeedSettings, Settings
from syndicate.core.sanitize import absolute_url, normalize_space, strip_control_chars, summarize
from syndicate.feeds import formats

TITLE_LIMIT = 300
SUMMARY_LIMIT = 600
# A feed with no entries still needs an `updated`: a fixed instant keeps it deterministic.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_ID_PREFIX = "urn:syndicate:feed:"

_TAG_SLUG = re.compile(r"[^a-z0-9_-]+")
# Titles and names also lose C1 controls: readers show them as cp1252 glyphs.
_C1_CONTROLS = re.compile("[\x7f-\x9f]")


def plain_text(value: str, *, limit: int | None = None) -> str:
    """Markup-free, single-line text for titles and names: tags dropped, entities decoded.

    Decoding can reveal new markup (``&lt;b&gt;``), so it repeats until stable.
    """
    text = strip_control_chars(value)
    if "<" not in text and "&" not in text:  # the common case: nothing to decode
        text = normalize_space(_C1_CONTROLS.sub("", text))
        # already one clean line: only a text over the limit needs summarize's cut
        return summarize(text, limit) if limit is not None and len(text) > limit else text
    for _ in range(4):  # bounded: each pass removes at least one layer of markup
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        cleaned = normalize_space(_C1_CONTROLS.sub("", strip_control_chars(cleaned)))
        if cleaned == text:
            break
        text = cleaned
    return summarize(text, limit) if limit is not None else text


@lru_cache(maxsize=4096)
def plain_name(value: str) -> str:
    """``plain_text`` of a tag or an author's name: the same few values recur on
    thousands of entries, so each is cleaned once."""
    return plain_text(value)


@dataclass(frozen=True)
class Podcast:
    """A podcast feed's channel: artwork URL, Apple category and explicit flag."""

    image: str
    category: str
    subcategory: str | None
    explicit: bool


def _podcast(feed: FeedSettings, site_url: str) -> Podcast | None:
    if not feed.podcast or not feed.podcast_image or not feed.podcast_category:
        return None  # config validation requires both with ``podcast = true``
    category, subcategory = itunes.parse_category(feed.podcast_category)
    image = absolute_url(feed.podcast_image, site_url) or feed.podcast_image
    return Podcast(image, category, subcategory, feed.podcast_explicit)


@dataclass(frozen=True)
class FeedSpec:
    """One feed to build: a configured feed, or one tag of a ``per_tag`` feed."""

    name: str
    path: str
    feed_id: str
    title: str
    description: str
    language: str
    home_url: str
    feeds_url: str  # public URL of the feeds folder, ends with "/"
    formats: tuple[str, ...]
    limit: int
    content: str
    archive: bool
    page_size: int
    hubs: tuple[str, ...]
    icon: str | None
    logo: str | None
    copyright: str | None
    author_name: str
    author_email: str | None
    iframe_hosts: tuple[str, ...] = ()
    filter: ArticleFilter = field(default_factory=ArticleFilter)
    tag: str | None = None  # set on per-tag feeds
    podcast: Podcast | None = None  # iTunes channel tags in RSS

    def url(self, folder: str, fmt: str) -> str:
        """Public URL of ``folder``'s file in format ``fmt``."""
        return f"{self.feeds_url}{folder}/{formats.get(fmt).file_name}"

    def for_tag(self, tag: str, slug: str) -> FeedSpec:
        return replace(
            self,
            name=f"{self.name}:tag:{slug}",
            path=f"tags/{slug}",
            feed_id=f"{self.feed_id}:tag:{slug}",
            title=f"{self.title}: {plain_text(tag, limit=TITLE_LIMIT)}",
            tag=tag,
        )


def feed_spec(settings: Settings, feed: FeedSettings) -> FeedSpec:
    site = settings.site
    author = site.author
    return FeedSpec(
        name=feed.name,
        path=feed.path.strip("/"),
        feed_id=FEED_ID_PREFIX + feed.name,
        title=plain_text(feed.title or site.title, limit=TITLE_LIMIT) or feed.name,
        description=plain_text(feed.description or site.description or site.title),
        language=feed.language or site.language,
        home_url=site.url,
        feeds_url=site.public_feeds_url,
        formats=tuple(dict.fromkeys(feed.formats)),
        limit=feed.limit,
        content=feed.content,
        archive=feed.archive,
        page_size=feed.archive_page_size,
        hubs=tuple(feed.hubs),
        icon=absolute_url(feed.icon, site.url) if feed.icon else None,
        logo=absolute_url(feed.logo, site.url) if feed.logo else None,
        iframe_hosts=sanitize.iframe_host_list(site.iframe_hosts),
        copyright=plain_text(feed.copyright) if feed.copyright else None,
        author_name=plain_text(author.name if author else site.title) or site.title,
        author_email=author.email if author else None,
        filter=ArticleFilter.for_feed(feed),
        podcast=_podcast(feed, site.url),
    )


def tag_slug(tag: str) -> str:
    """A folder name for a tag: lower-case ASCII, digits, ``-`` and ``_``."""
    slug = _TAG_SLUG.sub("-", tag.lower()).strip("-")[:60]
    if slug and slug == tag:
        return slug
    digest = hashlib.sha256(tag.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else f"tag-{digest}"


@dataclass(frozen=True)
class Media:
    url: str
    mime_type: str
    length: int
    duration: int | None = None  # seconds, audio and video only


@dataclass(frozen=True)
class Entry:
    """An article as every format shows it: cleaned, absolute, bounded."""

    id: str
    url: str
    title: str
    summary: str  # plain text
    content_html: str | None  # None in summary mode
    content_text: str | None
    published: datetime
    updated: datetime
    author_name: str | None
    author_email: str | None
    tags: tuple[str, ...]
    media: Media | None


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _media(article: Article, base: str) -> Media | None:
    """The entry's enclosure: its audio when it has one (one enclosure per RSS item, and
    the episode is what a podcast app plays), else its image."""
    audio = absolute_url(article.audio_url, base) if article.audio_url else None
    mime = valid_mime_type(article.audio_type)
    if audio and audio.startswith(("http://", "https://")) and mime and article.audio_length:
        return Media(audio, mime, article.audio_length, article.audio_duration)
    if not article.image_url:
        return None
    url = absolute_url(article.image_url, base)
    if url is None or not url.startswith(("http://", "https://")):
        return None
    mime = valid_mime_type(article.image_type)
    if mime is None:
        mime = mimetypes.guess_type(url.split("?")[0])[0] or "application/octet-stream"
    length = article.image_length if article.image_length and article.image_length > 0 else 0
    return Media(url, mime, length)


@lru_cache(maxsize=16)
def _containment(base_url: str, iframe_hosts: tuple[str, ...]) -> nh3.Cleaner:
    """The import-time allow-list (``sanitize.policy``), applied natively.

    Content was sanitised with that policy at import (``Article.sanitized_with``); the feed
    applies it once more only as containment for rows written by other means or under
    another policy. Relative URLs are resolved by nh3
    itself: no Python callback per attribute, so a 10,000-article build stays fast
    (iframe hosts are checked afterwards by ``sanitize.finish_html``).
    """
    tags, dropped, attributes = sanitize.policy(iframe_hosts)
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(dropped),
        attributes={tag: set(names) for tag, names in attributes.items()},
        url_schemes=set(sanitize.URL_SCHEMES),
        url_relative=("rewrite_with_base", base_url),
        link_rel=None,
        strip_comments=True,
    )


def _trusted(article: Article, spec: FeedSpec) -> bool:
    """Whether the article's HTML and text were cleaned at import under the feed's policy
    (then neither is cleaned again: the largest share of an entry's cost)."""
    return article.sanitized_with == _policy_key(spec.home_url, spec.iframe_hosts)


@lru_cache(maxsize=16)
def _policy_key(home_url: str, iframe_hosts: tuple[str, ...]) -> str:
    return sanitize.policy_key(home_url, iframe_hosts)  # a hash: once per feed, not per entry


def _contained_html(article: Article, spec: FeedSpec) -> str:
    """The HTML of an article not cleaned under the feed's policy, contained again."""
    cleaner = _containment(spec.home_url, spec.iframe_hosts)
    cleaned = cleaner.clean(strip_control_chars(article.content_html))
    return sanitize.finish_html(cleaned, spec.iframe_hosts)


def make_entry(article: Article, spec: FeedSpec) -> Entry:
    """Turn a stored article (with its body) into the entry all three formats render."""
    url = article.url(spec.home_url)
    trusted = _trusted(article, spec)
    text = article.content_text if trusted else strip_control_chars(article.content_text)
    summary = plain_text(article.summary, limit=SUMMARY_LIMIT) or summarize(
        text[: SUMMARY_LIMIT * 4], SUMMARY_LIMIT
    )
    full = spec.content == "full"
    html = None
    if full:
        html = article.content_html if trusted else _contained_html(article, spec)
    author = plain_name(article.author_name) if article.author_name else None
    email = (article.author_email or "").strip()
    return Entry(
        id=article.uid,
        url=url,
        title=plain_text(article.title, limit=TITLE_LIMIT) or "(untitled)",
        summary=summary,
        content_html=html,
        content_text=text if full else None,
        published=article.published_at.astimezone(UTC),
        updated=entry_time(article),
        author_name=author or None,
        author_email=email if author and _EMAIL.match(email) else None,
        tags=tuple(t for t in (plain_name(tag) for tag in article.tags) if t),
        media=_media(article, spec.home_url),
    )


def stamp(article: Article) -> list[object]:
    """Everything about a light article row that can change its entry."""
    return [
        article.id,
        article.uid,
        article.slug,
        article.content_hash,
        article.sanitized_with,
        article.title,
        article.summary,
        article.author_name,
        article.author_email,
        article.image_url,
        article.image_type,
        article.image_length,
        article.audio_url,
        article.audio_type,
        article.audio_length,
        article.audio_duration,
        article.published_at.isoformat(),
        article.updated_at.isoformat(),
        list(article.tags),
    ]


def entry_time(article: Article) -> datetime:
    return max(article.updated_at, article.published_at).astimezone(UTC)


TIE_STEP = timedelta(microseconds=1)


def distinct_times(articles: list[Article] | tuple[Article, ...]) -> dict[int, datetime]:
    """Each article's ``updated`` time in a feed, no two alike (article id -> time).

    Two entries of one Atom document with the same ``updated`` draw the W3C validator's
    "DuplicateUpdated" warning, and articles imported without a time of their own (a
    date-only front matter, files sharing a modification second, an export's post
    dates) often tie. The stored instants stay as they are; among the articles of a
    feed that share one, the one stored first (lowest id) keeps it and each later one
    is written one microsecond after the one before. So every entry keeps the second
    readers show, the feed's order (newest first, then newest id) agrees with the
    times, and the same store always gives the same times.
    """
    times: dict[int, datetime] = {}
    previous: datetime | None = None
    for article in sorted(articles, key=lambda a: (entry_time(a), a.id)):
        moment = entry_time(article)
        if previous is not None and moment <= previous:
            moment = previous + TIE_STEP
        times[article.id] = previous = moment
    return times


@dataclass(frozen=True)
class Page:
    """One document of a feed: the live feed (``number`` 0) or archive page ``number``.

    ``links`` maps an RFC 5005 relation (prev-archive, next-archive, current) to the
    folder it points at; each format links to the same format there.
    """

    spec: FeedSpec
    folder: str
    number: int
    articles: tuple[Article, ...]  # newest first; light rows
    updated: datetime
    times: tuple[datetime, ...] = ()  # each article's distinct ``updated`` (distinct_times)
    links: tuple[tuple[str, str], ...] = ()
    archive: bool = False  # fh:archive
    complete: bool = False  # fh:complete

    @property
    def is_live(self) -> bool:
        return self.number == 0

    def link(self, rel: str) -> str | None:
        return dict(self.links).get(rel)

    def fingerprint(self, fmt: str, stamps: Stamps | None = None) -> str:
        """A hash of every input of this page in ``fmt``: equal means equal bytes.
        ``stamps`` shares the encoding of rows and feeds among a build's pages."""
        inputs = self.__dict__.get("_inputs_hash")
        if inputs is None:
            inputs = self._hash_inputs(stamps or Stamps())
            self.__dict__["_inputs_hash"] = inputs  # frozen: set once, like cached_property
        return hashlib.sha256(f"{fmt}:{inputs}".encode()).hexdigest()

    def _hash_inputs(self, stamps: Stamps) -> str:
        head = [
            FORMAT_VERSION,
            stamps.spec(self.spec),
            self.folder,
            self.updated.isoformat(),
            [moment.isoformat() for moment in self.times],
            list(self.links),
            self.archive,
            self.complete,
        ]
        digest = hashlib.sha256(_encode(head).encode("utf-8", "surrogatepass"))
        for article in self.articles:
            digest.update(b"\n")
            digest.update(stamps.row(article))
        return digest.hexdigest()


def _encode(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


class Stamps:
    """The encoded stamps of a build's rows and feeds, each made once: a row sits on
    several pages (its feed's and each of its tags'), a feed's head on all its pages."""

    def __init__(self) -> None:
        # id() keys: the pages keep every row alive, so an id is not reused meanwhile
        self._rows: dict[int, tuple[Article, bytes]] = {}
        self._specs: dict[FeedSpec, str] = {}

    def row(self, article: Article) -> bytes:
        held = self._rows.get(id(article))
        if held is None or held[0] is not article:
            held = (article, _encode(stamp(article)).encode("utf-8", "surrogatepass"))
            self._rows[id(article)] = held
        return held[1]

    def spec(self, spec: FeedSpec) -> str:
        encoded = self._specs.get(spec)
        if encoded is None:
            head = asdict(spec)
            head["filter"] = repr(spec.filter)
            encoded = self._specs[spec] = _encode(head)
        return encoded


def newest_time(times: tuple[datetime, ...]) -> datetime:
    return max(times, default=EPOCH)
