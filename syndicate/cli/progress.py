"""Progress-bar columns: a rate in the work's own unit, and why the rate is what it is."""

from __future__ import annotations

from rich.progress import ProgressColumn, Task
from rich.text import Text

from syndicate.delivery.mailers.limits import RateLimiter


class RateColumn(ProgressColumn):
    """Items per second over rich's recent window (``12.5 msg/s``)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else f"- {self.unit}/s", "cyan")


class HeldColumn(ProgressColumn):
    """Says when sending waits for ``[mail] rate_per_second`` rather than the provider,
    so a slow bar is not mistaken for a slow provider."""

    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__()
        self.limiter = limiter

    def render(self, task: Task) -> Text:
        if task.finished or not self.limiter.held():
            return Text("")
        return Text(f"held by rate_per_second = {self.limiter.rate:g}/s", "yellow")
