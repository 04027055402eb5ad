"""``syndicate check``: build everything a run builds, without sending or publishing.

Each check is one line of the report (ok, warning or failed) that says what it looked
at, and each problem names the file, URL or key to fix. The store is opened and
migrated, templates parsed, the mailer, the DKIM signer and every feed host built
(they connect lazily, so missing secrets and libraries show up here), every feed
built into a scratch folder and linted, the built feeds on disk linted, and every
digest's current edition rendered. Values left from the example config are warnings.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import TemplateError as JinjaError

from syndicate.core.config import Settings
from syndicate.core.db import current_revision, redact
from syndicate.core.errors import SyndicateError
from syndicate.core.render import environment
from syndicate.delivery.dkim import DkimSigner
from syndicate.delivery.mailers import build_mailer
from syndicate.digest import latest_slot, render_edition, select_articles
from syndicate.feeds import build_feeds
from syndicate.feeds.lint import lint_tree
from syndicate.publishing.hosts import build_host
from syndicate.service.context import App

EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


@dataclass
class Check:
    """One line of the report; ``problems`` each name what to fix."""

    name: str
    status: str = "ok"  # ok | warning | failed | skipped
    detail: str = ""
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Found(Exception):
    """Problems found by a check (as opposed to a check that could not run)."""

    def __init__(self, problems: list[str], detail: str = "", *, warning: bool = False):
        super().__init__(problems)
        self.problems = problems
        self.detail = detail
        self.warning = warning


def _run(name: str, work: Callable[[], str]) -> Check:
    """Run one check; its return value is the detail, an error its one problem."""
    try:
        return Check(name, "ok", work())
    except _Found as found:
        status = "warning" if found.warning else "failed"
        return Check(name, status if found.problems else "ok", found.detail, found.problems)
    except SyndicateError as error:
        return Check(name, "failed", problems=[error.message])
    except Exception as exc:  # a check reports; it never ends in a traceback
        return Check(name, "failed", problems=[f"{type(exc).__name__}: {exc}"])


# -- the checks -----------------------------------------------------------------------


def template_problems(settings: Settings) -> list[str]:
    """Every template that does not parse, and every configured one that is missing."""
    env = environment(settings.templates_dir if settings.templates_dir.is_dir() else None)
    problems = []
    for name in env.list_templates():
        if name.rsplit(".", 1)[-1] not in ("html", "txt", "xml", "j2"):
            continue
        try:
            env.get_template(name)
        except JinjaError as exc:
            where = _template_file(settings, name)
            problems.append(f"{where}:{getattr(exc, 'lineno', '?')}: {exc}")
    known = set(env.list_templates())
    for index, digest in enumerate(settings.digests):
        for key in ("html_template", "text_template"):
            name = getattr(digest, key)
            if name not in known:
                problems.append(f"digests[{index}].{key}: no template named {name!r}")
    return problems


def _template_file(settings: Settings, name: str) -> str:
    own = settings.templates_dir / name
    return str(own) if own.is_file() else f"template {name}"


def _templates(settings: Settings) -> str:
    problems = template_problems(settings)
    if problems:
        raise _Found(problems)
    folder = settings.templates_dir
    where = f"{folder} over the packaged ones" if folder.is_dir() else "the packaged ones"
    return f"every template parses ({where})"


def _mailer(settings: Settings) -> str:

    build_mailer(settings).close()
    mail = settings.mail
    if mail.provider == "maildir":
        return f"maildir at {settings.resolve(mail.maildir)}"
    if mail.provider == "smtp":
        return f"smtp to {mail.smtp.host}:{mail.smtp.port} ({mail.smtp.security})"
    return f"{mail.provider} API"


def _dkim(settings: Settings) -> str:

    dkim = settings.mail.dkim
    assert dkim is not None
    DkimSigner.from_settings(dkim, settings)
    return f"key {settings.resolve(dkim.private_key_file)} for {dkim.selector}._domainkey.{dkim.domain}"


def _host(settings: Settings, index: int) -> str:

    host = settings.hosts[index]
    problems = []
    if host.url and host.url != settings.site.public_feeds_url:
        problems.append(
            f"hosts[{index}].url: {host.url} differs from site.feeds_url "
            f"({settings.site.public_feeds_url}), which the feeds' self links and WebSub "
            "pings use; set site.feeds_url to the URL subscribers fetch"
        )
    for key in ("key_file", "known_hosts"):
        value = getattr(host, key, None)  # only an SFTP host has them
        if value and not Path(settings.resolve(value)).is_file():
            problems.append(f"hosts[{index}].{key}: no file at {settings.resolve(value)}")
    try:
        build_host(host, base_dir=settings.base_dir, key=f"hosts[{index}]").close()
    except SyndicateError as error:
        problems.append(error.message)
    if problems:
        raise _Found(problems)
    return f"{host.type} {host.location}".strip()


def _source(settings: Settings, index: int) -> str:
    """A folder source's folder exists; a feed source is named by its URL (fetched on
    its schedule or by ``sources pull``, not here: check makes no outbound request)."""
    source = settings.sources[index]
    if source.path is None:
        return f"feed {source.url}, pulled on {source.schedule}"
    folder = settings.resolve(source.path)
    if not folder.is_dir():
        raise _Found([f"sources[{index}].path: no folder at {folder}"])
    return f"folder {folder}"


def _webhook(settings: Settings, index: int) -> str:
    """The receiver's signing secret is set and usable (no request is made here)."""
    from syndicate.delivery.hooks.send import signer

    hook = settings.webhooks[index]
    signer(hook, index)
    return f"{', '.join(hook.events)} -> {hook.url}"


def _with_feeds_dir(settings: Settings, folder: Path) -> Settings:
    """The same settings with ``[paths] feeds`` pointing at ``folder``."""
    return settings.model_copy(
        update={"paths": settings.paths.model_copy(update={"feeds": str(folder)})}
    )


def _lint(root: Path, settings: Settings) -> tuple[int, list[str]]:
    """Lint the feed files under ``root``: (files, problems naming each file)."""

    reports = lint_tree(_with_feeds_dir(settings, root))
    problems = [f"{root / relpath}: {p}" for relpath, found in reports.items() for p in found]
    return len(reports), problems


def _feed_build(app: App) -> str:
    """Build every feed from the store into a scratch folder (as a run would) and lint it.

    The scratch folder holds its own manifest, so the real build is not affected."""

    settings = app.settings
    if not settings.feeds:
        return "no [[feeds]] configured"
    with tempfile.TemporaryDirectory(prefix="syndicate-check-") as scratch:
        scoped = _with_feeds_dir(settings, Path(scratch))
        report = build_feeds(app.engine, scoped, clock=app.clock)
        files, problems = _lint(Path(scratch), settings)
        problems = [p.replace(scratch, "(scratch build)") for p in problems]
    entries = sum(report.entries.values())
    detail = f"{len(settings.feeds)} feed(s), {entries} entries, {files} file(s) built"
    if problems:
        raise _Found(problems, detail)
    return detail + "; every file passes the feed rules"


def _built_feeds(settings: Settings) -> str:
    root = settings.feeds_dir
    if not root.is_dir():
        return f"{root}: not built yet"
    files, problems = _lint(root, settings)
    if problems:
        raise _Found(problems, f"{files} file(s) in {root}")
    return f"{files} file(s) in {root} pass the feed rules"


def _digest(app: App, name: str) -> str:
    """Render the digest's current edition from the store, as the next send would."""

    settings = app.settings
    digest = settings.digest(name)
    now = app.clock.now()
    slot = latest_slot(digest, settings.digest_timezone(digest), now) or now
    with app.engine.connect() as conn:
        selection = select_articles(conn, settings, digest, slot, composed_at=now)
    rendered = render_edition(
        settings, digest, selection.articles, slot=slot, more_count=selection.more_count
    )
    detail = (
        f"{rendered.subject!r}: {len(selection.articles)} article(s), "
        f"{rendered.check.html_bytes // 1024} KB"
    )
    if rendered.check.errors:
        raise _Found(rendered.check.errors, detail)
    if rendered.check.warnings:
        raise _Found(rendered.check.warnings, detail, warning=True)
    return detail


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def example_values(settings: Settings) -> list[str]:
    """Keys still holding an address or URL at a reserved example domain (RFC 2606)."""
    data = settings.model_dump(by_alias=True, exclude={"base_dir"})
    found = []
    for path, value in _walk(data, ""):
        lowered = value.lower()
        if any(domain in lowered for domain in EXAMPLE_DOMAINS):
            found.append(f"{path} = {value!r} is an example value; set your own")
    return found


def _site_values(settings: Settings) -> str:
    found = example_values(settings)
    if found:
        raise _Found(found, f"{len(found)} value(s) at an example domain", warning=True)
    return "no example.org values left"


# -- the report -----------------------------------------------------------------------


def run_checks(settings: Settings, *, source: str, app: App | None = None) -> list[Check]:
    """Every check, in the order a run meets them, after the config file (``source``)
    that ``settings`` came from; the store ones are skipped when the store cannot open."""
    own_app = app is None
    app = app or App(settings)
    try:
        checks = [Check("config", "ok", f"{source} is valid")]
        checks.append(_run("site values", lambda: _site_values(settings)))
        database = _run("database", lambda: _open_store(app))
        checks.append(database)
        checks.append(_run("templates", lambda: _templates(settings)))
        checks.append(_run("mailer", lambda: _mailer(settings)))
        if settings.mail.dkim is not None:
            checks.append(_run("dkim", lambda: _dkim(settings)))
        for index, host in enumerate(settings.hosts):
            checks.append(_run(f"host {host.name}", partial(_host, settings, index)))
        for index, pulled in enumerate(settings.sources):
            checks.append(_run(f"source {pulled.name}", partial(_source, settings, index)))
        for index in range(len(settings.webhooks)):
            checks.append(_run(f"webhook {index + 1}", partial(_webhook, settings, index)))
        store_checks: list[tuple[str, Callable[[], str]]] = [("feeds", lambda: _feed_build(app))]
        store_checks += [
            (f"digest {d.name}", partial(_digest, app, d.name)) for d in settings.digests
        ]
        for name, work in store_checks:
            if database.status == "failed":
                checks.append(Check(name, "skipped", "needs the database"))
            else:
                checks.append(_run(name, work))
        checks.append(_run("built feeds", lambda: _built_feeds(settings)))
        return checks
    finally:
        if own_app:
            app.close()


def _open_store(app: App) -> str:

    engine = app.engine
    return f"{redact(app.settings.database_url)} at revision {current_revision(engine)}"


def all_problems(settings: Settings) -> list[str]:
    """The problems of every failed check (warnings left out)."""
    checks = run_checks(settings, source="config")
    return [p for check in checks if check.status == "failed" for p in check.problems]
