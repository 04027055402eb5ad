"""What the operator reads: every error's message and hint printed exactly as written.

Rich reads ``[...]`` as markup, so an unescaped ``pip install 'x[s3]'`` loses ``[s3]``
and ``check [database] url`` loses ``[database]``.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import syndicate.cli.articles
import syndicate.core.dburl
import syndicate.publishing.hosts.base
import syndicate.publishing.publish
import syndicate.readers.subscribers
import syndicate.web.console.editions
import syndicate.web.console.operators
from syndicate.cli import main
from syndicate.cli.base import fail, print_table
from syndicate.core import errors

# Every module that defines an error class is imported, so the list below does not
# depend on which tests ran first.
ERROR_MODULES = (
    syndicate.cli.articles,
    syndicate.web.console.editions,
    syndicate.web.console.operators,
    syndicate.core.dburl,
    syndicate.publishing.hosts.base,
    syndicate.publishing.publish,
    syndicate.readers.subscribers,
)


def _every_error_class() -> list[type[errors.SyndicateError]]:
    found: list[type[errors.SyndicateError]] = []
    todo = [errors.SyndicateError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__name__)


def _instance(cls: type[errors.SyndicateError], message: str) -> errors.SyndicateError:
    if issubclass(cls, errors.ImportFailure):
        return cls("posts/[draft].md", message)
    if issubclass(cls, errors.DeliveryError | syndicate.publishing.hosts.base.HostError):
        return cls(message, temporary=False)
    if issubclass(cls, syndicate.publishing.publish.PublishFailed):
        return cls([syndicate.publishing.publish.PushReport("site", error=message)])
    return cls(message)


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda c: c.__name__)
def test_each_error_prints_its_message_and_default_hint_verbatim(
    cls: type[errors.SyndicateError], capsys: pytest.CaptureFixture[str]
) -> None:
    error = _instance(cls, "cannot use [database] url 'sqlite:///x[1].db'")
    with pytest.raises(SystemExit) as exited:
        fail(error)
    assert exited.value.code == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"error: {error.message}"
    assert "[database]" in lines[0] and "x[1].db" in lines[0]
    if cls.hint:
        assert lines[-1] == f"hint: {cls.hint}"
    else:
        assert len(lines) == 1


@pytest.mark.parametrize(
    "hint",
    [
        "pip install 'syndicate-feeds[s3]'",
        "check [database] url and that the database server is running",
        "syndicate outbox retry --failed [--edition ID]",
        "[bold]not bold[/bold] and a trailing backslash \\",
    ],
)
def test_a_hint_with_brackets_keeps_them(hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        fail(errors.ConfigError("bad", problems=["a.b[0]: x"], hint=hint))
    assert capsys.readouterr().err.splitlines() == ["error: bad", "  - a.b[0]: x", f"hint: {hint}"]


def test_table_cells_are_data_not_markup(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(None, ["title"], [("[draft] Budget [red]vote[/red]",)])
    assert "[draft] Budget [red]vote[/red]" in capsys.readouterr().out


def test_a_real_command_hint_keeps_its_brackets() -> None:
    result = CliRunner().invoke(main, ["outbox", "retry", "--config", "x"], catch_exceptions=False)
    assert result.exit_code == 2  # --config belongs before the command: click's usage error
    result = CliRunner().invoke(main, ["--config", "/nonexistent/c.toml", "outbox", "retry"])
    assert result.exit_code == 1
    assert "hint: syndicate outbox retry --failed [--edition ID]" in result.output
