"""A click group that imports a command's module only when that command runs.

The command modules pull in SQLAlchemy, pydantic, rich and the rest (over a second of
CPU); ``syndicate --version``, ``--help`` and every shell-completion TAB need none of
it. The table below names each top-level command's module(s) and its one-line help,
which ``--help`` and completion show without importing anything; a test checks each
line against the command's own docstring.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
from click.shell_completion import CompletionItem

# command -> (modules that define it and its subcommands, its short help)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "api-tokens": (("api",), "Scoped tokens for the HTTP API (/api/v1/), shown once."),
    "articles": (("articles",), "List, show and remove stored articles."),
    "bounces": (("bounces",), "Bounce and complaint reports that arrive as mail (DSN, ARF, NDR)."),
    "check": (("admin",), "Build everything a run builds, without sending; report each check."),
    "db": (("admin",), "Database schema."),
    "deliver": (("delivery",), "Drain the outbox: hand queued messages to the mail provider."),
    "digest": (("digest",), "Email digests: preview an edition, send it (or a test copy)."),
    "feeds": (
        ("feeds", "publish"),
        "Build the configured feeds (RSS, Atom, JSON Feed) under the feeds folder.",
    ),
    "import": (
        ("articles",),
        "Import article files, folders and CMS exports (WordPress WXR, Ghost JSON, a "
        "Substack folder), or a feed or page URL (a one-off pull); re-importing updates them.",
    ),
    "init": (("admin",), "Write a starter config.toml for your site in DIRECTORY."),
    "new": (("new",), "Write a new Markdown article with front matter into the articles folder."),
    "operators": (("operators",), "Console accounts: owner, editor, viewer."),
    "outbox": (("delivery",), "Inspect and repair the outbox."),
    "run": (("service",), "The service: scheduler + delivery + web server in one process."),
    "serve": (
        ("service",),
        "The web app only (subscribe pages, one-click unsubscribe, feeds, webhooks).",
    ),
    "sources": (("sources",), "Feed and folder sources pulled on their schedule."),
    "status": (("admin",), "Next runs, last results, queue depth, failures, pushes and workers."),
    "subscribers": (("subscribers",), "Manage the people who receive the digests."),
    "webhooks": (
        ("api",),
        "Outbound webhooks: delivery attempts, receivers' state, backlog replay.",
    ),
    "worker": (
        ("service",),
        "A delivery worker only (scale-out: run many against one PostgreSQL).",
    ),
}


class LazyGroup(click.Group):
    """Commands from ``COMMANDS`` are loaded on first use; others register as usual."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            for module in COMMANDS[cmd_name][0]:
                importlib.import_module(f"{__package__}.{module}")  # registers on the group
        return self.commands.get(cmd_name)

    def help_line(self, ctx: click.Context, name: str, limit: int = 150) -> str:
        if name in self.commands or name not in COMMANDS:
            command = self.get_command(ctx, name)
            return command.get_short_help_str(limit) if command else ""
        # a bare Command shortens the line exactly as the real one would
        return click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if names:
            limit = formatter.width - 6 - max(len(name) for name in names)
            with formatter.section("Commands"):
                formatter.write_dl([(name, self.help_line(ctx, name, limit)) for name in names])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names and their help from the table: a TAB imports no command module."""
        items = [
            CompletionItem(name, help=self.help_line(ctx, name))
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        return items + self._option_completions(ctx, incomplete)

    def _option_completions(self, ctx: click.Context, incomplete: str) -> list[Any]:
        return click.Command.shell_complete(self, ctx, incomplete)
