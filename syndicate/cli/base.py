"""The click group, shared options, output helpers and the error edge.

Start-up time: ``syndicate --version``, ``--help`` and every shell-completion TAB
import this module and ``cli/__init__`` only, so neither imports rich, pydantic or
SQLAlchemy at the top (about a second of CPU together); each is imported where it
is first needed, with a comment saying so.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from syndicate import __version__
from syndicate.cli.lazy import LazyGroup
from syndicate.core.configfind import FoundConfig, find_config
from syndicate.core.errors import ConfigError, SyndicateError

if TYPE_CHECKING:
    from rich.console import Console

    from syndicate.core.config import Settings
    from syndicate.service.context import App

F = TypeVar("F", bound=Callable[..., Any])

SERVICE_COMMANDS = ("run", "worker", "serve")


@cache
def console(stream: str) -> Console:
    """The rich console for ``"out"`` or ``"err"``, made on first use (rich is local: it
    costs start-up time that --version, --help and completion should not pay)."""
    from rich.console import Console

    return Console(stderr=stream == "err", highlight=False)


def __getattr__(name: str) -> Any:
    """``from .base import err_console`` in a command module: made when first imported."""
    if name in ("err_console", "out_console"):
        return console(name[:3])
    raise AttributeError(name)


@dataclass
class Obj:
    """What every command gets: the config path and, lazily, settings and the App."""

    config: Path
    log_level: str = "warning"
    log_format: str = "text"
    _app: App | None = field(default=None, repr=False)
    found: FoundConfig | None = field(default=None, repr=False)

    def load(self) -> Settings:
        """Read the config; when none was found, the error says where it looked."""
        # local: config.py (pydantic) loads only when a command needs the settings
        from syndicate.core.config import load_settings

        if self.found is not None and not self.found.found:
            raise self.found.missing()
        return load_settings(self.config)

    def settings(self) -> Settings:
        return self.app().settings

    def app(self) -> App:
        if self._app is None:
            # local: context (SQLAlchemy) loads only when a command needs the store,
            # never for --version, --help or completion
            from syndicate.service.context import App

            self._app = App(self.load())
        return self._app


def labelled(label: str, style: str, text: str, *, stream: str = "err") -> None:
    """Print ``label: text`` with a styled label. The text is never parsed as markup, so
    brackets in it (``[s3]``, ``[database]``, a file name) are printed as written."""
    from rich.text import Text  # local: rich loads on first output (see the module doc)

    console(stream).print(Text.assemble((f"{label}:", style), " ", text), soft_wrap=True)


def fail(error: SyndicateError) -> None:
    """Print an operator error as one line (plus problems and a hint); exit 1."""
    labelled("error", "bold red", error.message)
    if isinstance(error, ConfigError):
        for problem in error.problems:
            console("err").print(f"  - {problem}", markup=False, soft_wrap=True)
    if error.hint:
        labelled("hint", "dim", error.hint)
    sys.exit(1)


def handle_errors(func: F) -> F:
    """Turn SyndicateError into one line and exit 1; never a traceback for bad input."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SyndicateError as error:
            fail(error)
        except KeyboardInterrupt:
            console("err").print("interrupted")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    import json  # local: a few ms that --version, --help and completion need not pay

    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=json_default))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    # local: rich loads on first output (see the module doc)
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        # Text, not str: a cell is data (a title like "[draft] ..."), never markup.
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    console("out").print(table)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def configure_logging(level: str, fmt: str) -> None:
    from syndicate.core.logs import setup_logging

    setup_logging(level, fmt)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syndicate")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $SYNDICATE_CONFIG, else the nearest config.toml in this "
    "folder or a parent).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Default: info for run, worker and serve; warning for other commands.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def main_group(
    ctx: click.Context, config: Path | None, log_level: str | None, log_format: str
) -> None:
    """Publish a site's articles as RSS, Atom and JSON feeds and as email digests."""
    if log_level is None:  # the service logs its work; one-shot commands print a summary
        log_level = "info" if ctx.invoked_subcommand in SERVICE_COMMANDS else "warning"
    configure_logging(log_level, log_format)
    found = find_config(config)
    obj = Obj(found.path, log_level, log_format, found=found)
    ctx.obj = obj
    ctx.call_on_close(lambda: obj._app.close() if obj._app else None)


pass_obj = click.make_pass_decorator(Obj)
