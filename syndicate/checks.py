"""``syndicate check``: every problem with the config, templates, secrets and built feeds."""

from __future__ import annotations

from pathlib import Path

from jinja2 import TemplateError as JinjaError

from .config import Settings
from .errors import SyndicateError
from .render import environment


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
            problems.append(f"template {name}:{getattr(exc, 'lineno', '?')}: {exc}")
    known = set(env.list_templates())
    for index, digest in enumerate(settings.digests):
        for key in ("html_template", "text_template"):
            name = getattr(digest, key)
            if name not in known:
                problems.append(f"digests[{index}].{key}: no template named {name!r}")
    return problems


def provider_problems(settings: Settings) -> list[str]:
    """Build the mailer and every host as a run would (they connect lazily), so missing
    secrets or libraries show up now; the builders hold the one list of what each needs."""
    from .hosts import build_host
    from .mailers import build_mailer

    builders = [lambda: build_mailer(settings)] + [
        lambda host=host, index=index: build_host(
            host, base_dir=settings.base_dir, key=f"hosts[{index}]"
        )
        for index, host in enumerate(settings.hosts)
    ]
    problems = []
    for build in builders:
        try:
            build().close()
        except SyndicateError as error:
            problems.append(error.message)
    return problems


def path_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.mail.dkim:
        key_file = settings.resolve(settings.mail.dkim.private_key_file)
        if not key_file.is_file():
            problems.append(f"mail.dkim.private_key_file: no file at {key_file}")
    for index, host in enumerate(settings.hosts):
        if host.url and host.url != settings.site.public_feeds_url:
            problems.append(
                f"hosts[{index}].url: {host.url} differs from site.feeds_url "
                f"({settings.site.public_feeds_url}), which the feeds' self links and WebSub "
                "pings use; set site.feeds_url to the URL subscribers fetch"
            )
        for key in ("key_file", "known_hosts"):
            value = getattr(host, key)
            if value and not Path(settings.resolve(value)).is_file():
                problems.append(f"hosts[{index}].{key}: no file at {settings.resolve(value)}")
    for index, source in enumerate(settings.sources):
        if source.path is not None and not settings.resolve(source.path).is_dir():
            problems.append(f"sources[{index}].path: no folder at {settings.resolve(source.path)}")
    return problems


def feed_problems(settings: Settings) -> list[str]:
    """Lint the built feeds, if they have been built."""
    if not settings.feeds_dir.is_dir():
        return []
    try:
        from .feedlint import lint_tree
    except ImportError:
        return []
    return [problem for problems in lint_tree(settings).values() for problem in problems]


def all_problems(settings: Settings) -> list[str]:
    return (
        template_problems(settings)
        + provider_problems(settings)
        + path_problems(settings)
        + feed_problems(settings)
    )
