"""How every benchmark measures and reports, so all tables read the same way.

- ``interleaved`` runs the subject and its reference alternately, several rounds, on the
  same data: a noisy neighbour slows both, not one.
- Each run records wall seconds and CPU seconds (this process's threads plus any child
  processes it waited for, such as ``syndicate`` or ``hugo``).
- A figure is the median of the runs, printed with its spread (min-max).
- A row states its reference, the ratio, the goal and a verdict: MET, or MISSED with the
  measured reason.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Runs:
    """Wall and CPU seconds of each run of one case (and a count of work units)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    units: int = 1

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    def describe(self) -> str:
        """``CPU median (min-max), wall median (min-max)`` per work unit."""
        scale = 1.0 / self.units
        cpu, wall = [c * scale for c in self.cpu], [w * scale for w in self.wall]
        return (
            f"CPU {seconds(statistics.median(cpu))} ({spread(cpu)}), "
            f"wall {seconds(statistics.median(wall))} ({spread(wall)}); median of {len(cpu)}"
        )


def seconds(value: float) -> str:
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def spread(values: list[float]) -> str:
    return f"{seconds(min(values))}-{seconds(max(values))}" if len(values) > 1 else "one run"


def run_once(func: Callable[[], object], runs: Runs) -> object:
    """Run ``func`` once, adding its wall and CPU seconds (children included) to ``runs``."""
    cpu0, child0, wall0 = time.process_time(), _children_cpu(), time.perf_counter()
    result = func()
    runs.wall.append(time.perf_counter() - wall0)
    runs.cpu.append(time.process_time() - cpu0 + _children_cpu() - child0)
    return result


def interleaved(
    cases: dict[str, Callable[[], object]],
    rounds: int,
    *,
    units: dict[str, int] | None = None,
    before: Callable[[str], None] | None = None,
) -> dict[str, Runs]:
    """Each case once per round, in alternating order; ``before(name)`` runs untimed."""
    results = {name: Runs(units=(units or {}).get(name, 1)) for name in cases}
    names = list(cases)
    for number in range(rounds):
        order = names if number % 2 == 0 else names[::-1]
        for name in order:
            if before is not None:
                before(name)
            run_once(cases[name], results[name])
    return results


@dataclass
class Row:
    """One line of a benchmark table, as the issue's goals table has it."""

    what: str
    measured: str
    reference: str
    ratio: float | None
    goal: str  # e.g. "<= 1.5x"
    met: bool | None
    reason: str = ""  # why, when MISSED (measured)

    def verdict(self) -> str:
        if self.met is None:
            return "not measured" + (f": {self.reason}" if self.reason else "")
        if self.met:
            return "MET"
        return "MISSED" + (f": {self.reason}" if self.reason else "")


def at_most(what: str, subject: float, base: float, goal: float, **text: str) -> Row:
    """A row whose goal is ``subject / base <= goal``; ``text``: measured, reference, reason."""
    ratio = subject / base if base else float("inf")
    return Row(
        what,
        text.get("measured", ""),
        text.get("reference", ""),
        ratio,
        f"<= {goal:g}x",
        ratio <= goal,
        text.get("reason", ""),
    )


def at_least(what: str, subject: float, base: float, goal: float, **text: str) -> Row:
    """A row whose goal is ``subject / base >= goal``; ``text``: measured, reference, reason."""
    ratio = subject / base if base else float("inf")
    return Row(
        what,
        text.get("measured", ""),
        text.get("reference", ""),
        ratio,
        f">= {goal:g}x",
        ratio >= goal,
        text.get("reason", ""),
    )


def print_rows(rows: list[Row]) -> None:
    """Every row as a block: what, measured, reference, ratio, goal, verdict."""
    for row in rows:
        ratio = f"{row.ratio:.3g}x" if row.ratio is not None else "-"
        print(f"* {row.what}")
        print(f"    measured:  {row.measured}")
        print(f"    reference: {row.reference}")
        print(f"    ratio {ratio}, goal {row.goal}: {row.verdict()}")
