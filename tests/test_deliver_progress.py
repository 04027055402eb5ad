"""The deliver progress bar: rate, ETA, and a word when rate_per_second holds sending."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from rich.progress import Progress

from syndicate.cli import main
from syndicate.cli.progress import HeldColumn, RateColumn
from syndicate.delivery.mailers.limits import RateLimiter
from syndicate.service.context import App
from tests.support.deliveries import queued_edition


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_knows_when_it_holds_sending() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3, monotonic=clock)
    assert limiter.reserve(3) == 0 and not limiter.held()  # within the burst
    assert limiter.reserve(4) == 2.0 and limiter.held()  # 4 more at 2/s: two seconds
    clock.now += 1.9
    assert limiter.held()
    clock.now += 0.1
    assert not limiter.held()


def test_the_bar_says_held_by_rate_per_second_only_while_held() -> None:
    clock = Clock()
    limiter = RateLimiter(20.0, 1, monotonic=clock)
    column = HeldColumn(limiter)
    with Progress(disable=True) as progress:
        task_id = progress.add_task("deliver", total=100)
        task = progress.tasks[0]
        assert column.render(task).plain == ""
        limiter.reserve(41)
        assert column.render(task).plain == "held by rate_per_second = 20/s"
        assert RateColumn("msg").render(task).plain == "- msg/s"
        progress.update(task_id, completed=100)
        assert column.render(progress.tasks[0]).plain == ""  # finished: nothing to say


def test_deliver_once_reports_its_rate(app: App, config_file: Path) -> None:
    queued_edition(app.engine, 5, now=app.clock.now())
    result = CliRunner().invoke(main, ["--config", str(config_file), "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "5/5" in result.output and "msg/s" in result.output and "eta" in result.output
    assert "sent 5, deferred 0, failed 0" in result.output
