"""The click group, shared options, output helpers and the error edge."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..config import Settings, config_path, load_settings
from ..context import App
from ..errors import ConfigError, SyndicateError

F = TypeVar("F", bound=Callable[..., Any])

SERVICE_COMMANDS = ("run", "worker", "serve")

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


@dataclass
class Obj:
    """What every command gets: the config path and, lazily, settings and the App."""

    config: Path
    log_level: str = "warning"
    log_format: str = "text"
    _app: App | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        return self.app().settings

    def app(self) -> App:
        if self._app is None:
            self._app = App(load_settings(self.config))
        return self._app


def labelled(label: str, style: str, text: str, *, console: Console | None = None) -> None:
    """Print ``label: text`` with a styled label. The text is never parsed as markup, so
    brackets in it (``[s3]``, ``[database]``, a file name) are printed as written."""
    (console or err_console).print(Text.assemble((f"{label}:", style), " ", text), soft_wrap=True)


def fail(error: SyndicateError) -> None:
    """Print an operator error as one line (plus problems and a hint); exit 1."""
    labelled("error", "bold red", error.message)
    if isinstance(error, ConfigError):
        for problem in error.problems:
            err_console.print(f"  - {problem}", markup=False, soft_wrap=True)
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
            err_console.print("interrupted")
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
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=json_default))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        # Text, not str: a cell is data (a title like "[draft] ..."), never markup.
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    out_console.print(table)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def configure_logging(level: str, fmt: str) -> None:
    from ..logs import setup_logging

    setup_logging(level, fmt)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syndicate")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default ./config.toml or $SYNDICATE_CONFIG).",
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
    obj = Obj(config_path(config), log_level, log_format)
    ctx.obj = obj
    ctx.call_on_close(lambda: obj._app.close() if obj._app else None)


pass_obj = click.make_pass_decorator(Obj)
