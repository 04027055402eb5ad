"""config.toml + environment -> frozen, validated settings.

Each setting is declared once, here, with its default and a one-line description
(``Field(description=...)``); ``docs/configuration.md`` must list every key and a
test enforces it. Unknown keys are errors so typos never pass silently. Every
problem is reported at once, each with its key path (``digests[0].schedule``).
Secrets never live in the file: keys ending in ``_env`` name environment variables.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from syndicate.core import itunes
from syndicate.core.buildstamp import DEFAULT_FEEDS_DIR, resolve_path
from syndicate.core.configkeys import nearest_key, untag
from syndicate.core.dburl import DEFAULT_URL
from syndicate.core.errors import ConfigError
from syndicate.core.i18n import BrokenCatalog, UnknownLanguage, translator

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "SYNDICATE_CONFIG"


class Section(BaseModel):
    """Base of every config table: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value if value.endswith("/") else value + "/"


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (like 'Europe/Kyiv')") from None
    return value


def _cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError:
        raise ValueError(f"{value!r} is not a cron expression") from None
    return value


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """Accept ``"90m"``, ``"6h"``, ``"7d"``, ``"2w"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    raise ValueError(f"{value!r} is not a duration (like '90m', '6h', '7d' or seconds)")


AbsoluteUrl = Annotated[str, BeforeValidator(_absolute_url)]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
Cron = Annotated[str, BeforeValidator(_cron)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
FeedPath = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_/.-]*$", max_length=200)]


class Person(Section):
    name: str = Field(description="Display name.")
    email: str | None = Field(None, description="Email address, optional.")


class SiteSettings(Section):
    title: str = Field(description="The site's name, used in feeds and emails.")
    url: AbsoluteUrl = Field(description="Absolute public URL of the site; links are built on it.")
    description: str = Field("", description="One sentence about the site.")
    language: str = Field(
        "en",
        description="BCP 47 tag of the content; pages and emails speak it (en, de, uk, or "
        "an operator's catalog; `de-AT` reads German).",
    )
    timezone: TimeZoneName = Field("UTC", description="IANA zone; naive article dates use it.")
    author: Person | None = Field(None, description="Default author of feeds and articles.")
    feeds_url: AbsoluteUrl | None = Field(
        None, description="Public URL where feeds/ is served; default `<url>feeds/`."
    )
    iframe_hosts: list[str] = Field(
        default_factory=list, description="Hosts whose iframes survive sanitising."
    )

    @property
    def public_feeds_url(self) -> str:
        return self.feeds_url or self.url + "feeds/"


class DatabaseSettings(Section):
    url: str = Field(
        DEFAULT_URL,
        description="SQLAlchemy URL: sqlite:///file.db or postgresql+psycopg://user@host/db.",
    )
    pool_size: int = Field(5, ge=1, le=100, description="Connections per process (PostgreSQL).")

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        from syndicate.core.dburl import DatabaseUrlError, normalise

        try:
            return normalise(value)
        except DatabaseUrlError as exc:
            raise ValueError(f"{exc.message}; {exc.hint}") from None


class PathSettings(Section):
    feeds: str = Field(DEFAULT_FEEDS_DIR, description="Where built feeds are written.")
    templates: str = Field("templates", description="Operator templates, over the packaged ones.")
    articles: str = Field("articles", description="Where `syndicate new` writes articles.")
    media: str | None = Field(
        None,
        description="A folder of the site's pictures and audio the web app serves at /media/ "
        "(the demo's: examples/media); unset, /media/ is not served.",
    )


def _all_formats() -> list[Literal["rss", "atom", "json"]]:
    return ["rss", "atom", "json"]


class FeedSettings(Section):
    name: Slug = Field(description="Unique name of the feed.")
    path: FeedPath = Field(description="Folder under the feeds output: feeds/<path>/.")
    title: str | None = Field(None, description="Feed title; default the site title.")
    description: str | None = Field(None, description="Feed description; default the site's.")
    formats: list[Literal["rss", "atom", "json"]] = Field(
        default_factory=_all_formats, description="Formats to build."
    )
    limit: int = Field(50, ge=1, le=10000, description="Entries in the live feed.")
    content: Literal["full", "summary"] = Field("full", description="Full HTML or summary only.")
    tags: list[str] = Field(default_factory=list, description="Any of these tags; empty = all.")
    tags_all: list[str] = Field(default_factory=list, description="All of these tags.")
    exclude_tags: list[str] = Field(default_factory=list, description="None of these tags.")
    authors: list[str] = Field(default_factory=list, description="Only these authors' articles.")
    archive: bool = Field(False, description="Write RFC 5005 archive pages.")
    archive_page_size: int = Field(
        50,
        ge=1,
        le=10000,
        description="Entries per archive page. Until the first page is full, the live feed "
        "holds every article and is marked complete (a lone archive page could link to no "
        "other page).",
    )
    hubs: list[AbsoluteUrl] = Field(default_factory=list, description="WebSub hubs to ping.")
    icon: str | None = Field(None, description="URL of a square icon.")
    logo: str | None = Field(None, description="URL of a wide logo.")
    language: str | None = Field(None, description="Language; default the site's.")
    copyright: str | None = Field(None, description="Rights statement.")
    per_tag: bool = Field(False, description="Also build one feed per tag under tags/<tag>/.")
    podcast: bool = Field(
        False, description="A podcast: iTunes tags in RSS, audio attachments as enclosures."
    )
    podcast_image: str | None = Field(
        None, description="Podcast artwork: square .jpg/.png, 1400-3000 px (URL or site path)."
    )
    podcast_category: str | None = Field(
        None, description='Apple Podcasts category, e.g. "News" or "News > Daily News".'
    )
    podcast_explicit: bool = Field(False, description="Episodes carry explicit content.")

    @field_validator("podcast_category")
    @classmethod
    def _apple_category(cls, value: str | None) -> str | None:
        if value is not None:
            itunes.parse_category(value)
        return value

    @field_validator("podcast_image")
    @classmethod
    def _artwork(cls, value: str | None) -> str | None:
        return itunes.check_artwork(value) if value is not None else None

    @model_validator(mode="after")
    def _podcast_complete(self) -> FeedSettings:
        if self.podcast:
            missing = [k for k in ("podcast_image", "podcast_category") if not getattr(self, k)]
            if missing:
                raise ValueError(f"podcast = true needs {' and '.join(missing)} (Apple requires)")
            if "rss" not in self.formats:
                raise ValueError('podcast = true needs "rss" in formats (podcast apps read RSS)')
        return self


class HostSettings(Section):
    """The keys every host type has. ``[[hosts]]`` entries are one model per type (below),
    a union keyed on ``type``: each validates only its own keys, an error names the key
    path (``hosts[2].bucket``), and the host registry
    (``syndicate/publishing/hosts/registry.py``) pairs each model with its factory. The
    models live here because the settings are validated before any stage is imported."""

    name: Slug = Field(description="Unique name of the host (used by --target).")
    type: str = Field(description="Host kind.")
    url: AbsoluteUrl | None = Field(
        None,
        description="Public base URL of what the host serves (checked against site.feeds_url).",
    )
    delete: bool = Field(False, description="Delete files no longer built.")
    max_deletes: int = Field(50, ge=0, description="Abort a push that would delete more.")
    cache_control: dict[str, str] = Field(
        default_factory=dict, description="Cache-Control per glob pattern, over the defaults."
    )
    content_type: dict[str, str] = Field(
        default_factory=dict, description="Content-Type per glob pattern, over the defaults."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds before a network call gives up.")
    retries: int = Field(3, ge=0, le=10, description="Retries of a transient host failure.")
    retry_delay: float = Field(
        2.0, ge=0, le=300, description="Seconds before the first retry; doubles each time."
    )

    @property
    def location(self) -> str:
        """Where the host writes, for `syndicate check` (a folder, a bucket, a server)."""
        return ""


class DirectoryHostSettings(HostSettings):
    type: Literal["directory"] = Field(description="Host kind.")
    path: str = Field(min_length=1, description="Folder on the host.")

    @property
    def location(self) -> str:
        return self.path


class S3HostSettings(HostSettings):
    type: Literal["s3"] = Field(description="Host kind.")
    bucket: str = Field(min_length=1, description="S3 bucket.")
    prefix: str = Field("", description="S3 key prefix.")
    region: str | None = Field(None, description="S3 region.")
    endpoint_url: str | None = Field(None, description="S3-compatible endpoint or WebDAV URL.")
    access_key_env: EnvName | None = Field(None, description="Env var with the S3 access key id.")
    secret_key_env: EnvName | None = Field(None, description="Env var with the S3 secret key.")

    @property
    def location(self) -> str:
        return self.bucket


class _LoginSettings(HostSettings):
    """The keys of the hosts that log in to a server (SFTP, FTP, WebDAV)."""

    path: str = Field("", description="Folder on the host.")
    username: str | None = Field(None, description="Login name.")
    password_env: EnvName | None = Field(None, description="Env var holding the password.")


class SftpHostSettings(_LoginSettings):
    type: Literal["sftp"] = Field(description="Host kind.")
    host: str = Field(min_length=1, description="SFTP/FTP server name.")
    port: int | None = Field(None, ge=1, le=65535, description="SFTP/FTP port.")
    username: str = Field(min_length=1, description="Login name.")
    key_file: str | None = Field(None, description="SFTP private key file.")
    known_hosts: str | None = Field(None, description="SFTP known_hosts file to check against.")

    @property
    def location(self) -> str:
        return self.host


class FtpHostSettings(_LoginSettings):
    type: Literal["ftp"] = Field(description="Host kind.")
    host: str = Field(min_length=1, description="SFTP/FTP server name.")
    port: int | None = Field(None, ge=1, le=65535, description="SFTP/FTP port.")
    tls: bool = Field(False, description="FTP: use explicit FTPS.")

    @property
    def location(self) -> str:
        return self.host


class WebDavHostSettings(_LoginSettings):
    type: Literal["webdav"] = Field(description="Host kind.")
    endpoint_url: str = Field(min_length=1, description="S3-compatible endpoint or WebDAV URL.")

    @property
    def location(self) -> str:
        return self.endpoint_url


AnyHostSettings = Annotated[
    DirectoryHostSettings
    | S3HostSettings
    | SftpHostSettings
    | FtpHostSettings
    | WebDavHostSettings,
    Field(discriminator="type"),
]


class SmtpSettings(Section):
    host: str = Field("127.0.0.1", description="SMTP server.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    security: Literal["starttls", "ssl", "none"] = Field("starttls", description="TLS mode.")
    username: str | None = Field(None, description="AUTH user; none = no AUTH.")
    password_env: EnvName | None = Field(None, description="Env var holding the password.")
    timeout: float = Field(30.0, gt=0, description="Seconds per SMTP command.")
    verify_tls: bool = Field(True, description="Verify the server certificate.")
    ca_file: str | None = Field(
        None,
        description="PEM file of extra CA certificates to trust (a relay with a private "
        "CA), relative to the config file; the system's CAs are trusted too.",
    )


class MailgunSettings(Section):
    domain: str = Field(description="Sending domain.")
    region: Literal["us", "eu"] = Field("us", description="API region.")
    api_key_env: EnvName = Field("MAILGUN_API_KEY", description="Env var with the API key.")
    base_url: str | None = Field(None, description="Override the API base URL.")
    timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds to wait for the API's answer; after that the call is "
        "uncertain (see docs/deliverability.md).",
    )


class SendgridSettings(Section):
    api_key_env: EnvName = Field("SENDGRID_API_KEY", description="Env var with the API key.")
    base_url: str = Field("https://api.sendgrid.com", description="API base URL.")
    timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds to wait for the API's answer; after that the call is "
        "uncertain (see docs/deliverability.md).",
    )


class PostmarkSettings(Section):
    server_token_env: EnvName = Field(
        "POSTMARK_SERVER_TOKEN", description="Env var with the server token."
    )
    message_stream: str = Field("broadcast", description="Broadcast message stream id.")
    base_url: str = Field("https://api.postmarkapp.com", description="API base URL.")
    timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds to wait for the API's answer; after that the call is "
        "uncertain (see docs/deliverability.md).",
    )


class SesSettings(Section):
    region: str = Field("us-east-1", description="AWS region.")
    endpoint_url: str | None = Field(None, description="Override the SES endpoint.")
    configuration_set: str | None = Field(None, description="SES configuration set.")
    access_key_env: EnvName | None = Field(None, description="Env var with the access key id.")
    secret_key_env: EnvName | None = Field(None, description="Env var with the secret key.")
    timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds to wait for the API's answer; after that the call is "
        "uncertain (see docs/deliverability.md).",
    )


class DkimSettings(Section):
    domain: str = Field(description="d= domain of the signature.")
    selector: str = Field(description="s= selector; DNS TXT at <selector>._domainkey.<domain>.")
    private_key_file: str = Field(description="PEM private key file.")


class BounceMailboxSettings(Section):
    """Where ``syndicate bounces ingest`` (without stdin) finds bounce reports."""

    source: Literal["maildir", "imap"] = Field(description="Poll a Maildir folder or IMAP.")
    maildir: str | None = Field(None, description="Maildir folder (source 'maildir').")
    host: str | None = Field(None, description="IMAP server (source 'imap').")
    port: int | None = Field(
        None, ge=1, le=65535, description="IMAP port; default 993 (ssl) or 143."
    )
    security: Literal["ssl", "starttls", "none"] = Field(
        "ssl", description="IMAP TLS mode; 'none' only on a loopback address."
    )
    username: str | None = Field(None, description="IMAP user.")
    password_env: EnvName | None = Field(None, description="Env var holding the IMAP password.")
    mailbox: str = Field("INBOX", description="IMAP mailbox to read.")
    processed: Literal["flag", "delete"] = Field(
        "flag",
        description="After the report is applied: flag it seen (Maildir: move to cur/ "
        "with the S flag) or delete it.",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds per IMAP command.")
    verify_tls: bool = Field(True, description="Verify the IMAP server certificate.")
    ca_file: str | None = Field(
        None,
        description="PEM file of extra CA certificates to trust (a private CA), relative "
        "to the config file; the system's CAs are trusted too.",
    )
    limit: int = Field(1000, ge=1, le=100_000, description="Messages handled per poll, at most.")
    schedule: Cron | None = Field(
        "*/5 * * * *",
        description="Poll this often under 'syndicate run' (cron, UTC); empty: only when "
        "'syndicate bounces ingest' runs.",
    )

    @field_validator("schedule", mode="before")
    @classmethod
    def _unscheduled(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _source_configured(self) -> BounceMailboxSettings:
        if self.source == "maildir" and not self.maildir:
            raise ValueError("source 'maildir' needs maildir = \"path\"")
        if self.source == "imap":
            if not self.host or not self.username or not self.password_env:
                raise ValueError("source 'imap' needs host, username and password_env")
            if self.security == "none" and self.host not in ("127.0.0.1", "::1", "localhost"):
                raise ValueError("security 'none' sends the password in clear: loopback only")
        return self


# 64 (RFC 5321) minus "+" and the VERP token; syndicate.delivery.bounces.verp.BASE_LOCAL_MAX.
BOUNCE_LOCAL_MAX = 26


def _bounce_address(value: str | None) -> str | None:
    """A plain address whose local part leaves room for the VERP token."""
    if value is None:
        return None
    local, at, domain = value.strip().rpartition("@")
    if not at or not re.fullmatch(r"[A-Za-z0-9_=-]+(\.[A-Za-z0-9_=-]+)*", local):
        raise ValueError(
            "must be a plain address like bounce@bounces.example.org "
            "(letters, digits, '.', '_', '=', '-' before the @; no '+')"
        )
    if len(local) > BOUNCE_LOCAL_MAX:
        raise ValueError(f"the part before @ may have at most {BOUNCE_LOCAL_MAX} characters")
    if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", domain):
        raise ValueError(f"{domain!r} is not a domain name")
    return f"{local}@{domain.lower()}"


class MailSettings(Section):
    provider: Literal["maildir", "smtp", "mailgun", "sendgrid", "postmark", "ses"] = Field(
        "maildir", description="Which mailer delivers."
    )
    from_: str = Field(alias="from", description="From header: 'Name <address>'.")
    reply_to: str | None = Field(None, description="Reply-To header.")
    maildir: str = Field("outbox", description="Maildir folder for the maildir provider.")
    rate_per_second: float = Field(20.0, gt=0, description="Messages per second, at most.")
    burst: int = Field(50, ge=1, description="Messages allowed in a burst above the rate.")
    concurrency: int = Field(1, ge=1, le=64, description="Parallel provider calls per worker.")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="SMTP provider.")
    mailgun: MailgunSettings | None = Field(None, description="Mailgun provider.")
    sendgrid: SendgridSettings = Field(
        default_factory=SendgridSettings, description="SendGrid provider."
    )
    postmark: PostmarkSettings = Field(
        default_factory=PostmarkSettings, description="Postmark provider."
    )
    ses: SesSettings = Field(default_factory=SesSettings, description="Amazon SES provider.")
    dkim: DkimSettings | None = Field(
        None, description="DKIM signing of raw messages (maildir, smtp, ses)."
    )
    bounce_address: Annotated[str | None, AfterValidator(_bounce_address)] = Field(
        None,
        description="VERP base address (smtp, maildir): each message's envelope sender "
        "becomes bounce+<signed delivery token>@domain.",
    )
    bounces: BounceMailboxSettings | None = Field(
        None, description="Mailbox polled by 'syndicate bounces ingest'."
    )

    @model_validator(mode="after")
    def _provider_configured(self) -> MailSettings:
        if self.provider == "mailgun" and self.mailgun is None:
            raise ValueError("provider 'mailgun' needs a [mail.mailgun] table with domain")
        return self


class DeliverySettings(Section):
    batch_size: int = Field(100, ge=1, le=10000, description="Rows claimed per batch.")
    lease_seconds: int = Field(300, ge=10, description="A claim expires after this long.")
    max_attempts: int = Field(8, ge=1, description="Temporary failures before giving up.")
    backoff_base_seconds: float = Field(60.0, gt=0, description="First retry delay.")
    backoff_max_seconds: float = Field(6 * 3600.0, gt=0, description="Longest retry delay.")
    breaker_failures: int = Field(5, ge=1, description="Consecutive failures that pause sending.")
    breaker_pause_seconds: float = Field(60.0, gt=0, description="Pause after the breaker trips.")


class TopicSettings(Section):
    tag: Annotated[str, Field(pattern=r"^[^,\s][^,]*$", max_length=60)] = Field(
        description="The article tag this topic stands for (no commas)."
    )
    label: str = Field(description="What readers see on the forms.", min_length=1, max_length=200)


class DigestSettings(Section):
    name: Slug = Field(description="Unique name of the digest.")
    title: str = Field(description="Shown in the subject and the email.")
    description: str = Field("", description="Shown on the subscribe form.")
    feed: str | None = Field(None, description="Draw articles from this feed's filter.")
    tags: list[str] = Field(default_factory=list, description="Or its own any-of tag filter.")
    schedule: Cron = Field(description="Cron expression in the digest's time zone.")
    timezone: TimeZoneName | None = Field(None, description="IANA zone; default the site's.")
    max_articles: int = Field(10, ge=1, le=500, description="Articles in one edition.")
    skip_empty: bool = Field(True, description="Send nothing when no article is new.")
    lookback: Duration = Field(
        timedelta(days=7), description="How far back the first edition reaches."
    )
    expires_after: Duration = Field(
        timedelta(hours=6), description="A slot missed by more than this is skipped."
    )
    subject: str = Field(
        "{{ digest.title }}: {{ edition.date }}", description="Jinja2 subject template."
    )
    from_: str | None = Field(None, alias="from", description="From; default [mail] from.")
    reply_to: str | None = Field(None, description="Reply-To; default [mail] reply_to.")
    html_template: str = Field("digest.html", description="HTML template name.")
    text_template: str = Field("digest.txt", description="Text template name.")
    send_at_local: int | None = Field(
        None, ge=0, le=23, description="Deliver at this hour in each subscriber's zone."
    )
    topics: list[TopicSettings] = Field(
        default_factory=list,
        max_length=24,
        description="Topics a reader may pick (some or all); an edition carries only theirs.",
    )
    frequency: str | None = Field(
        None,
        min_length=1,
        max_length=60,
        description="'How often' label (like 'Daily'): digests of one feed with a frequency "
        "are offered as one choice.",
    )
    welcome: bool = Field(False, description="Send a welcome email on confirmation.")
    welcome_subject: str | None = Field(
        None,
        description="Jinja2 subject of the welcome email; default 'Welcome to <title>' "
        "in the digest's language.",
    )
    language: str | None = Field(
        None, description="Language of the digest's chrome and welcome; default the site's."
    )
    feed_link: bool | None = Field(
        None,
        description="Link the reader's private feed in the footer; default on when the "
        "digest offers topics or a frequency.",
    )

    @field_validator("topics")
    @classmethod
    def _distinct_topics(cls, value: list[TopicSettings]) -> list[TopicSettings]:
        tags = [topic.tag for topic in value]
        if len(tags) != len(set(tags)):
            raise ValueError("two topics name the same tag")
        return value

    @property
    def shows_feed_link(self) -> bool:
        if self.feed_link is not None:
            return self.feed_link
        return bool(self.topics) or self.frequency is not None


class WebSettings(Section):
    listen: str = Field("127.0.0.1:8080", description="host:port the web app binds.")
    admin_listen: str | None = Field(
        None,
        description="host:port for the console (/admin/) alone; unset = the console on "
        "web.listen. When set, web.listen answers 404 under /admin/ and this address serves "
        "nothing but the console.",
    )
    base_url: AbsoluteUrl | None = Field(
        None, description="Public URL of the web app; default the site URL."
    )
    secret_env: EnvName = Field("SYNDICATE_SECRET", description="Env var with the signing key.")
    previous_secrets_env: EnvName | None = Field(
        None, description="Env var with old signing keys (comma-separated) still accepted."
    )
    token_days: int = Field(60, ge=1, description="Days an unsubscribe/preferences link works.")
    confirm_days: int = Field(7, ge=1, description="Days a confirmation link works.")
    subscribe_per_hour: int = Field(10, ge=1, description="Subscribe posts per IP per hour.")
    proxies: int = Field(
        0,
        ge=0,
        le=5,
        description="Reverse proxies in front of the web app whose X-Forwarded-* to trust.",
    )
    soft_bounce_limit: int = Field(3, ge=1, description="Soft bounces that suppress an address.")
    connection_limit: int = Field(
        500, ge=10, le=10_000, description="Open connections the web server accepts at once."
    )
    channel_timeout_seconds: int = Field(
        20, ge=2, le=3600, description="Seconds a connection may sit idle or half-sent."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        ge=64 * 1024,
        le=1024 * 1024 * 1024,
        description="Largest request body; bigger ones get 413 before they are read.",
    )
    webhook_keys: dict[str, EnvName] = Field(
        default_factory=dict,
        description="Provider -> env var with its webhook signing key.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Other host[:port] names the web app answers as, besides base_url's host; "
        "a request naming any other Host is treated as naming base_url's.",
    )
    sns_topic_arns: list[str] = Field(
        default_factory=list,
        description="SNS topics whose SES notifications /webhooks/ses accepts; empty = off.",
    )
    sns_cert_hosts: list[str] = Field(
        default_factory=list,
        description="Exact host names trusted for SNS certificate and subscribe URLs, besides "
        "sns.<region>.amazonaws.com[.cn] (always trusted, https only, no port).",
    )

    @field_validator("sns_cert_hosts")
    @classmethod
    def _exact_hosts(cls, value: list[str]) -> list[str]:
        # The old default pattern names the built-in rule: accept it, match nothing extra.
        hosts = [h.lower() for h in value if h != "sns.*.amazonaws.com"]
        for host in hosts:
            if not re.fullmatch(r"[a-z0-9.-]+|::1", host):
                raise ValueError(f"{host!r} is not an exact host name (no patterns, no ports)")
        return hosts

    admin_idle_minutes: int = Field(
        30, ge=1, description="Console sessions end after this many minutes without a request."
    )
    admin_session_hours: int = Field(
        12, ge=1, description="Console sessions end this many hours after login, used or not."
    )

    @field_validator("listen", "admin_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port")
        return value

    @model_validator(mode="after")
    def _two_addresses(self) -> WebSettings:
        # Port 0 asks the system for a free port: two of those never collide.
        if self.admin_listen == self.listen and not self.listen.endswith(":0"):
            raise ValueError(
                f"admin_listen {self.admin_listen!r} is web.listen too; give the console "
                "another port, or leave admin_listen unset to serve it on web.listen"
            )
        return self


class ScheduleSettings(Section):
    feeds: Cron = Field("*/15 * * * *", description="Build and publish feeds (cron, UTC).")
    publish: Cron | None = Field(None, description="Publish on its own cron; default with feeds.")
    deliver_every_seconds: int = Field(30, ge=1, description="Drain the outbox this often.")
    housekeeping: Cron = Field(
        "17 3 * * *",
        description="Prune old job history, webhook replay records and stale workers;"
        " keep the day's subscriber counts for the dashboard.",
    )
    leader_lease_seconds: int = Field(30, ge=5, description="Scheduler leader lease length.")
    job_lease_seconds: int = Field(
        120,
        ge=2,
        description="A running job's claim lease: renewed while it runs; once it has "
        "expired (the process died) the leader takes the job over and finishes it.",
    )
    keep_history_days: int = Field(90, ge=1, description="Days of job history kept.")


def _feed_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


class SourceSettings(Section):
    """Where articles come from besides `syndicate import`: a feed URL or a local folder."""

    name: Slug = Field(description="Unique name of the source (`syndicate sources pull NAME`).")
    url: Annotated[str, BeforeValidator(_feed_url)] | None = Field(
        None, description="RSS, Atom or JSON Feed URL (a feed source)."
    )
    path: str | None = Field(
        None, description="Folder of article files imported on schedule and on change."
    )
    schedule: Cron = Field("*/30 * * * *", description="When to pull (cron, UTC).")
    full_text: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Fetch and extract the linked page: auto = when the feed has a summary only.",
    )
    tags: list[str] = Field(default_factory=list, description="Tags added to every article.")
    since: datetime | date | None = Field(
        None, description="Ignore feed entries published before this date."
    )
    allow_private: bool = Field(
        False, description="Allow private, loopback and link-local addresses (feed sources)."
    )
    timeout: float = Field(20.0, gt=0, le=300, description="Seconds before a request gives up.")
    max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest feed or page accepted, in bytes."
    )
    host_delay: float = Field(
        1.0, ge=0, le=60, description="Seconds between two full-text fetches from one host."
    )
    max_full_text: int = Field(
        25, ge=0, le=10000, description="Pages fetched per pull; the rest wait for the next."
    )

    @model_validator(mode="after")
    def _url_or_path(self) -> SourceSettings:
        if (self.url is None) == (self.path is None):
            raise ValueError("a source needs either url (a feed) or path (a folder), not both")
        feed_only = {"full_text", "since", "allow_private", "max_full_text", "host_delay"}
        if self.path is not None and (extra := sorted(feed_only & self.model_fields_set)):
            raise ValueError(f"{', '.join(extra)} only apply to a feed source (url)")
        return self

    @property
    def kind(self) -> str:
        return "feed" if self.url is not None else "folder"


class StatsSettings(Section):
    clicks: Literal["off", "aggregate"] = Field(
        "off",
        description="Count link clicks per link per edition (never per person) "
        "through signed /r/ redirects.",
    )


EVENT_TYPES = (
    "subscriber.created",
    "subscriber.confirmed",
    "subscriber.unsubscribed",
    "subscriber.bounced",
    "subscriber.complained",
    "edition.composed",
    "edition.sent",
    "feed.published",
    "source.failed",
)


class WebhookSettings(Section):
    """An outbound webhook: events posted, signed per Standard Webhooks, to one URL."""

    url: Annotated[str, BeforeValidator(_feed_url)] = Field(
        description="Where events are POSTed (http or https); redirects are not followed."
    )
    events: list[Literal[EVENT_TYPES]] = Field(  # type: ignore[valid-type]
        min_length=1, description="Which events this receiver gets."
    )
    secret_env: EnvName = Field(
        description="Env var with the signing secret (`whsec_` + base64, as Standard Webhooks)."
    )
    allow_private: bool = Field(
        False, description="Allow private, loopback and link-local addresses (a local receiver)."
    )
    timeout: float = Field(10.0, gt=0, le=60, description="Seconds before a request gives up.")


class ApiSettings(Section):
    rate_per_minute: int = Field(
        600, ge=1, le=100_000, description="Requests per API token per minute; then 429."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest API request body."
    )


_Named = TypeVar("_Named", bound="FeedSettings | DigestSettings | HostSettings | SourceSettings")


def _named(kind: str, items: list[_Named], name: str) -> _Named:
    """The configured ``kind`` called ``name``; an unknown name lists the known ones."""
    for item in items:
        if item.name == name:
            return item
    raise ConfigError(
        f"no {kind} named {name!r}",
        hint=f"configured {kind}s: {', '.join(i.name for i in items) or 'none'}",
    )


class Settings(Section):
    site: SiteSettings = Field(description="The site.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Store.")
    paths: PathSettings = Field(default_factory=PathSettings, description="Folders.")
    feeds: list[FeedSettings] = Field(default_factory=list, description="Feeds to build.")
    hosts: list[AnyHostSettings] = Field(default_factory=list, description="Feed hosts.")
    mail: MailSettings = Field(description="Email sending.")
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings, description="Outbox and retries."
    )
    digests: list[DigestSettings] = Field(default_factory=list, description="Email digests.")
    web: WebSettings = Field(default_factory=WebSettings, description="Web app.")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="Service schedules."
    )
    sources: list[SourceSettings] = Field(
        default_factory=list, description="Feeds and folders pulled on a schedule."
    )
    stats: StatsSettings = Field(default_factory=StatsSettings, description="Numbers kept.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="The HTTP API.")
    webhooks: list[WebhookSettings] = Field(
        default_factory=list, description="Outbound webhooks (signed event posts)."
    )

    # Where the file was read from; relative paths resolve against it.
    base_dir: Path = Field(default=Path("."), exclude=True, description="(internal)")
    # The file itself, shown (read-only) in the console's settings page.
    config_file: str = Field(default="", exclude=True, description="(internal)")
    # The SHA-256 of the file's bytes: a feed build's stamp names the config it used.
    config_sha256: str = Field(default="", exclude=True, description="(internal)")

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        problems: list[str] = []
        for label, items in (
            ("feeds", self.feeds),
            ("hosts", self.hosts),
            ("sources", self.sources),
        ):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    problems.append(f"{label}: name {item.name!r} is used twice")
                seen.add(item.name)
        names = {feed.name for feed in self.feeds}
        seen_digests: set[str] = set()
        for index, digest in enumerate(self.digests):
            if digest.feed is not None and digest.feed not in names:
                problems.append(
                    f"digests[{index}].feed: no feed named {digest.feed!r} (have: "
                    f"{', '.join(sorted(names)) or 'none'})"
                )
            if digest.frequency is not None and digest.feed is None:
                problems.append(
                    f"digests[{index}].frequency: needs digests[{index}].feed (the digests "
                    "of one feed are offered as one choice)"
                )
            if digest.welcome and len(digest.name) > 56:
                problems.append(
                    f"digests[{index}].welcome: the name {digest.name!r} is too long for a "
                    "welcome (at most 56 characters; its welcome is '<name>.welcome')"
                )
            if digest.name in seen_digests:
                problems.append(f"digests: name {digest.name!r} is used twice")
            seen_digests.add(digest.name)
        problems.extend(self._language_problems())
        labels = [(d.feed, d.frequency) for d in self.digests if d.frequency is not None]
        if len(labels) != len(set(labels)):
            problems.append("digests: two digests of one feed share a frequency label")
        urls = [hook.url for hook in self.webhooks]
        if len(urls) != len(set(urls)):
            problems.append("webhooks: two webhooks share one url")
        paths = [feed.path for feed in self.feeds]
        if len(paths) != len(set(paths)):
            problems.append("feeds: two feeds share one path")
        if problems:
            raise ValueError("\n".join(problems))  # one line each (see _describe)
        return self

    def _language_problems(self) -> list[str]:
        """Every configured language must have a catalog (packaged or the operator's)."""
        keys = [("site.language", self.site.language)] + [
            (f"digests[{index}].language", digest.language)
            for index, digest in enumerate(self.digests)
            if digest.language is not None
        ]
        problems = []
        for key, tag in keys:
            try:
                translator(tag, self.templates_dir)  # compiled now: a broken .po is named
            except (UnknownLanguage, BrokenCatalog) as exc:
                problems.append(f"{key}: {exc}")
        return problems

    def digest_language(self, digest: DigestSettings) -> str:
        """The language tag a digest's chrome and welcome are written in."""
        return digest.language or self.site.language

    # -- derived values -------------------------------------------------------------

    def resolve(self, relative: str) -> Path:
        """A configured path, relative to the config file's folder."""
        return resolve_path(self.base_dir, relative)

    @property
    def feeds_dir(self) -> Path:
        return self.resolve(self.paths.feeds)

    @property
    def templates_dir(self) -> Path:
        return self.resolve(self.paths.templates)

    @property
    def articles_dir(self) -> Path:
        return self.resolve(self.paths.articles)

    @property
    def web_base_url(self) -> str:
        return self.web.base_url or self.site.url

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path made absolute."""
        from syndicate.core.dburl import resolved

        return resolved(self.database.url, self.base_dir)

    def feed(self, name: str) -> FeedSettings:
        return _named("feed", self.feeds, name)

    def digest(self, name: str) -> DigestSettings:
        return _named("digest", self.digests, name)

    def host(self, name: str) -> AnyHostSettings:
        return _named("host", self.hosts, name)

    def source(self, name: str) -> SourceSettings:
        return _named("source", self.sources, name)

    def frequency_choices(self, digest: DigestSettings) -> list[DigestSettings]:
        """The digests offered with ``digest`` as one 'how often' choice (itself included)."""
        if digest.frequency is None:
            return [digest]
        return [d for d in self.digests if d.feed == digest.feed and d.frequency is not None]

    def digest_timezone(self, digest: DigestSettings) -> ZoneInfo:
        return ZoneInfo(digest.timezone or self.site.timezone)


def secret(env_name: str | None, *, key: str, required: bool = True) -> str | None:
    """Read a secret from the environment variable the config names.

    ``key`` is the config key path, for the error message. The value is never logged.
    """
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if value is None and required:
        raise ConfigError(
            f"{key}: environment variable {env_name} is not set",
            hint=f"export {env_name}=... before starting syndicate",
        )
    return value


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


def _describe(error: ErrorDetails) -> list[str]:
    loc, _ = untag(Settings, tuple(p for p in error["loc"] if not str(p).startswith("function-")))
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if error["type"] == "extra_forbidden":
        nearest = nearest_key(Settings, error["loc"])
        message = "unknown key" + (
            f"; did you mean {nearest!r}?" if nearest else " (see docs/configuration.md)"
        )
    elif error["type"] == "missing":
        message = "required key is missing"
    elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # A tagged table ([[hosts]] keyed on type): name the tag key, list the valid tags.
        ctx = error.get("ctx") or {}
        loc = (*loc, str(ctx.get("discriminator", "type")).strip("'"))
        message = (
            f"{error['input'].get(loc[-1])!r} is not one of: {ctx['expected_tags']}"
            if error["type"] == "union_tag_invalid"
            else "required key is missing"
        )
    if not loc:
        # The whole-config checks name their keys themselves, one problem per line.
        return message.splitlines()
    return [f"{_key_path(loc)}: {message}"]


def parse_settings(
    data: dict[str, Any], *, base_dir: Path, source: str, sha256: str = ""
) -> Settings:
    """Validate a parsed TOML document, collecting every problem with its key path."""
    internal = {"base_dir": base_dir, "config_file": source, "config_sha256": sha256}
    try:
        return Settings.model_validate({**data, **internal})
    except ValidationError as exc:
        problems = [line for error in exc.errors() for line in _describe(error)]
        raise ConfigError(
            f"{source}: {len(problems)} problem(s) in the configuration", problems=problems
        ) from None


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate the config file; every error is a ConfigError."""
    config_file = config_path(path)
    try:
        raw = config_file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"no config file at {config_file}",
            hint="run `syndicate init` to create one, or pass --config PATH",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {config_file}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{config_file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file}: invalid TOML: {exc}") from None
    return parse_settings(
        data,
        base_dir=config_file.resolve().parent,
        source=str(config_file),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
