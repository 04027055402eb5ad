"""``syndicate init``: a starter config.toml with the operator's own site values.

The starter is not the demo: it carries the title, URL, time zone and sender the
operator gave, a digest whose first edition reaches back one week (not the demo's
ten years), and no templates unless asked for (the packaged ones are the fallback;
``init --templates`` copies them to customise). The written file is validated with
the same code that reads it, so a bad flag is reported by key before anything is
written.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from syndicate.core.config import parse_settings
from syndicate.core.errors import ConfigError
from syndicate.core.fileio import write_atomic
from syndicate.core.render import packaged_templates_dir

STARTER_LOOKBACK = "7d"


@dataclass(frozen=True)
class SiteValues:
    """What only the operator knows; everything else in the starter has a default."""

    title: str
    url: str
    timezone: str
    sender: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "localhost"


def local_timezone() -> str:
    """This machine's IANA zone ($TZ, then /etc/localtime), else UTC."""
    zone = os.environ.get("TZ", "").lstrip(":")
    if "/" in zone and not zone.startswith("/"):
        return zone
    try:
        target = Path("/etc/localtime").resolve(strict=True)
    except OSError:
        return "UTC"
    parts = target.parts
    if "zoneinfo" in parts:
        return "/".join(parts[parts.index("zoneinfo") + 1 :]) or "UTC"
    return "UTC"


def default_sender(title: str, url: str) -> str:
    host = urlsplit(url).hostname or "localhost"
    return f"{title} <news@{host.removeprefix('www.')}>"


def _s(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def starter_config(site: SiteValues) -> str:
    return f"""\
# syndicate configuration. Every key, its type and default: docs/configuration.md
# (or https://pypi.org/project/syndicate-feeds/). `syndicate check` validates it.

[site]
title = {_s(site.title)}
url = {_s(site.url)}
description = ""
language = "en"
timezone = {_s(site.timezone)}  # IANA; naive dates in articles are read in it

[database]
url = "sqlite:///syndicate.db"          # or postgresql+psycopg://user@host/db

[paths]
feeds = "feeds"                         # built feeds; serve or publish this folder
templates = "templates"                 # your templates, over the packaged ones
articles = "articles"                   # where `syndicate new` writes

# This site's own folder: a file dropped in articles/ is imported on schedule and
# soon after it changes (by `syndicate run`), and by `syndicate run --once`.
[[sources]]
name = "articles"
path = "articles"

[[feeds]]
name = "all"
path = "all"                            # feeds/all/rss.xml, atom.xml, feed.json
formats = ["rss", "atom", "json"]
limit = 50

[mail]
provider = "maildir"                    # writes mail to outbox/; smtp, mailgun, ... later
from = {_s(site.sender)}
maildir = "outbox"

[[digests]]
name = "weekly"
title = {_s(site.title + " weekly")}
feed = "all"
schedule = "0 8 * * MON"                # cron, in the site's time zone
max_articles = 10
lookback = "{STARTER_LOOKBACK}"  # how far back the first edition reaches

[web]
listen = "127.0.0.1:8080"
secret_env = "SYNDICATE_SECRET"
"""


INIT_HINT = (
    "give init valid values: --url https://your.site/, --timezone like Europe/Kyiv, "
    "--from 'Name <news@your.site>'"
)


def _check_sender(sender: str) -> None:
    _, address = parseaddr(sender)
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain:
        raise ConfigError(f"mail.from: {sender!r} is not 'Name <address>'", hint=INIT_HINT)


def scaffold(
    directory: Path, site: SiteValues, *, force: bool = False, templates: bool = False
) -> list[Path]:
    """Write config.toml (and templates/ when asked) in ``directory``; returns what was
    written. An existing config.toml is kept unless ``force``."""
    config = directory / "config.toml"
    if config.exists() and not force:
        raise ConfigError(
            f"{config} already exists", hint="pass --force to overwrite it, or pick another folder"
        )
    text = starter_config(site)
    try:
        parse_settings(tomllib.loads(text), base_dir=directory, source="syndicate init")
    except ConfigError as error:
        error.hint = INIT_HINT
        raise
    _check_sender(site.sender)
    written = []
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(config, text.encode("utf-8"))
    written.append(config)
    articles = directory / "articles"
    if not articles.exists():
        articles.mkdir()
        written.append(articles)
    target = directory / "templates"
    if templates and not target.exists():
        shutil.copytree(packaged_templates_dir(), target)
        written.append(target)
    return written
