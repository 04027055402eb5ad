"""``syndicate check``: every problem with the config, templates, secrets and built feeds."""

from __future__ import annotations

from pathlib import Path

from jinja2 import TemplateError as JinjaError

from .config import Settings
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


def secret_problems(settings: Settings) -> list[str]:
    """Environment variables the config names for the active provider and hosts."""
    import os

    needed: list[tuple[str, str | None]] = []
    mail = settings.mail
    if mail.provider == "smtp" and mail.smtp.username:
        needed.append(("mail.smtp.password_env", mail.smtp.password_env))
    elif mail.provider == "mailgun" and mail.mailgun:
        needed.append(("mail.mailgun.api_key_env", mail.mailgun.api_key_env))
    elif mail.provider == "sendgrid":
        needed.append(("mail.sendgrid.api_key_env", mail.sendgrid.api_key_env))
    elif mail.provider == "postmark":
        needed.append(("mail.postmark.server_token_env", mail.postmark.server_token_env))
    for index, host in enumerate(settings.hosts):
        for key in ("password_env", "access_key_env", "secret_key_env"):
            needed.append((f"hosts[{index}].{key}", getattr(host, key)))
    return [
        f"{key}: environment variable {name} is not set"
        for key, name in needed
        if name and name not in os.environ
    ]


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
        + secret_problems(settings)
        + path_problems(settings)
        + feed_problems(settings)
    )
